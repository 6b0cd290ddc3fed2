from django import forms
from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.admin.views.main import ChangeList
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from .admin_site import keep_bounded
from .models import User


class NarrowedChangeList(ChangeList):
    """Django's changelist, lighter per row: the page's rows load only the columns the list reads
    (`list_loaded_fields` of the model admin), and each row's change link is the page's one
    reversed URL with the row's id in it, not a reverse() per row."""

    _PK_PLACEHOLDER = "0"

    def get_results(self, request):
        fields = getattr(self.model_admin, "list_loaded_fields", None)
        if fields:
            # The rows only: the count, the filters and the actions' querysets are not narrowed.
            self.queryset = self.queryset.only(*fields)
        super().get_results(request)

    @cached_property
    def _change_url_parts(self) -> tuple[str, str]:
        url = reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_change",
            args=(self._PK_PLACEHOLDER,),
            current_app=self.model_admin.admin_site.name,
        )
        prefix, _placeholder, suffix = url.rpartition(f"/{self._PK_PLACEHOLDER}/")
        return f"{prefix}/", f"/{suffix}"

    def url_for_result(self, result):
        pk = getattr(result, self.pk_attname)
        if not isinstance(pk, int):  # a text key goes through admin quoting and URL escaping
            return super().url_for_result(result)
        prefix, suffix = self._change_url_parts
        return f"{prefix}{pk}{suffix}"


class KeptMarkup:
    """A widget whose markup is kept in the process for the same name, value, attributes, choices
    and language: what Django's template renderer would write again for each page."""

    _kept: dict = {}

    def render(self, name, value, attrs=None, renderer=None):
        key = (
            type(self),
            name,
            repr(value),
            repr(sorted({**self.attrs, **(attrs or {})}.items())),
            repr([(option, str(label)) for option, label in getattr(self, "choices", ())]),
            get_language(),
        )
        markup = self._kept.get(key)
        if markup is None:
            markup = super().render(name, value, attrs, renderer)
            keep_bounded(self._kept, key, markup)
        return markup


class KeptSelect(KeptMarkup, forms.Select):
    pass


class KeptHiddenInput(KeptMarkup, forms.HiddenInput):
    pass


class KeptActionForm(helpers.ActionForm):
    """Django's action form (the select above a changelist), its two widgets written once per set of
    actions: rendering them through the form templates took a twentieth of a changelist's time."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, kept in (("action", KeptSelect), ("select_across", KeptHiddenInput)):
            field = self.fields[name]
            field.widget = kept(attrs=field.widget.attrs)


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

    # Only the rows of a changelist page: None loads every column (see NarrowedChangeList).
    list_loaded_fields: list[str] | None = None

    # Django's changelist with its rows written by accounts.admin_rows (same markup, a third of the
    # time). A model-specific "admin/<app>/<model>/change_list.html" would be bypassed: set it here.
    change_list_template = "admin/narrowed_change_list.html"
    action_form = KeptActionForm

    def revert_disabled(self, request, obj=None):
        return True  # hides the revert button: history_form_view refuses to restore

    def get_changelist(self, request, **kwargs):
        return NarrowedChangeList

    def get_empty_value_display(self):
        # Asked once per cell: Django marks the same "-" safe again each time (through keep_lazy).
        value = getattr(self, "empty_value_display", None) or self.admin_site.empty_value_display
        return value if isinstance(value, SafeString) else mark_safe(value)

    def action_checkbox(self, obj):
        """Django's row checkbox, the same markup written at once: Django renders it through a
        form widget and the template renderer for every row, a fifth of a 100-row list's time."""
        label = gettext("Select this object for an action - {}").format(escape(str(obj)))
        return mark_safe(
            f'<input type="checkbox" name="{helpers.ACTION_CHECKBOX_NAME}" value="{escape(obj.pk)}" '
            f'class="action-select" aria-label="{label}">'
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
