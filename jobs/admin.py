from django.contrib import admin, messages

from . import services
from .models import Heartbeat, Job


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = [
        "pk",
        "task_name",
        "status",
        "created_at",
        "dispatch_count",
        "dispatched_at",
        "finished_at",
        "short_error",
    ]
    list_filter = ["status", "task_name"]
    search_fields = ["task_name", "key", "last_error"]
    readonly_fields = [
        "task_name",
        "kwargs",
        "key",
        "status",
        "created_at",
        "dispatched_at",
        "dispatch_count",
        "finished_at",
        "last_error",
    ]
    actions = ["retry"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="erreur")
    def short_error(self, job):
        return job.last_error[:80]

    @admin.action(description="Relancer les travaux sélectionnés", permissions=["change"])
    def retry(self, request, queryset):
        sent = sum(services.retry_job(job) for job in queryset.exclude(status=Job.Status.DONE))
        self.message_user(request, f"{sent} travail(aux) relancé(s).", messages.SUCCESS)


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    list_display = ["name", "at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
