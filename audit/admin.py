from django.contrib import admin

from .models import AuditDigest


@admin.register(AuditDigest)
class AuditDigestAdmin(admin.ModelAdmin):
    """Read-only: digests are written by beat only, and their worth is that nobody edits them."""

    list_display = ["date", "last_sequence", "head_hash", "recorded_at"]
    date_hierarchy = "date"
    readonly_fields = ["date", "last_sequence", "head_hash", "recorded_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
