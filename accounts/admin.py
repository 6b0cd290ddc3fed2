from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from .models import User


class NarrowedHistoryAdmin(SimpleHistoryAdmin):
    """History pages go through get_queryset like every other page: an object the user may not
    see has no history for them either (simple-history reads the history table directly)."""

    def _ensure_visible(self, request, object_id) -> None:
        if not self.get_queryset(request).filter(pk=object_id).exists():
            raise Http404

    def history_view(self, request, object_id, extra_context=None):
        self._ensure_visible(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        self._ensure_visible(request, object_id)
        if request.method == "POST":
            # Restoring a past version would save it directly, past the services' rules (locked
            # reviews, frozen criteria, dossier states) and past permissions (view is enough here).
            raise PermissionDenied("L'historique se consulte ; il ne restaure pas d'anciennes versions.")
        return super().history_form_view(request, object_id, version_id, extra_context)

    # 50 lines a page (Django's 100 doubles the rendering of the large lists), and no second
    # count of the whole table under a filtered list (a "Tout afficher" link instead).
    list_per_page = 50
    show_full_result_count = False

    def revert_disabled(self, request, obj=None):
        return True  # hides the revert button: history_form_view refuses to restore

    def action_checkbox(self, obj):
        """Django's row checkbox, the same markup written at once: Django renders it through a
        form widget and the template renderer for every row, a fifth of a 100-row list's time."""
        label = format_html(_("Select this object for an action - {}"), str(obj))
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME,
            obj.pk,
            label,
        )


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "roles", "is_staff", "is_active", "last_login"]
    list_filter = ["groups", "is_staff", "is_superuser", "is_active"]
    search_fields = ["email", "first_name", "last_name"]
    readonly_fields = ["last_login", "date_joined"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Informations personnelles"), {"fields": ["first_name", "last_name"]}),
        (_("Rôles et droits"), {"fields": ["is_active", "is_staff", "is_superuser", "groups"]}),
        (_("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description=_("rôles"))
    def roles(self, user: User) -> str:
        return ", ".join(group.name for group in user.groups.all())

    @staticmethod
    def _protected_superuser(request, obj) -> bool:
        # A superuser's account (password, e-mail, rights) is changed by superusers only.
        return obj is not None and obj.is_superuser and not request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return not self._protected_superuser(request, obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not self._protected_superuser(request, obj) and super().has_delete_permission(request, obj)

    def get_readonly_fields(self, request, obj=None):
        # Only a superuser may hand out superuser or raw permissions.
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields += ["is_superuser"]
        return fields
