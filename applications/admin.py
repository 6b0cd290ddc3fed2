from django import forms
from django.contrib import admin, messages
from django.db.models import Count
from django.shortcuts import render
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from accounts.admin import NarrowedHistoryAdmin

from . import services
from .models import (
    Attachment,
    AttachmentType,
    Call,
    Consortium,
    Dossier,
    DossierEvent,
    Invitation,
    Membership,
    Organisation,
    Submission,
)


class AttachmentTypeInline(admin.TabularInline):
    model = AttachmentType
    extra = 0


@admin.register(Call)
class CallAdmin(NarrowedHistoryAdmin):
    list_display = [
        "title",
        "reference_prefix",
        "opens_at",
        "closes_at",
        "envelope",
        "target_laureates",
        "dossier_count",
    ]
    search_fields = ["title", "slug"]
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = ["last_dossier_number", "closed_at"]
    inlines = [AttachmentTypeInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(num_dossiers=Count("dossiers"))

    @admin.display(description="dossiers", ordering="num_dossiers")
    def dossier_count(self, call):
        return call.num_dossiers


class OrganisationInline(admin.TabularInline):
    model = Organisation
    extra = 0
    fields = ["name", "siret", "kind", "legal_form", "commune", "is_lead"]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Consortium)
class ConsortiumAdmin(NarrowedHistoryAdmin):
    list_display = ["name", "departement", "region", "territory_priority", "maturity", "created_at"]
    list_filter = ["region", "territory_priority", "maturity"]
    search_fields = ["name", "communes", "organisations__name", "organisations__siret"]
    inlines = [OrganisationInline, MembershipInline]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "consortium", "role", "created_at", "expires_at", "accepted_at", "revoked_at"]
    list_select_related = ["consortium"]
    search_fields = ["email", "consortium__name"]
    readonly_fields = ["token", "accepted_at", "accepted_by", "revoked_at"]


class DossierEventInline(admin.TabularInline):
    model = DossierEvent
    extra = 0
    can_delete = False
    fields = ["at", "kind", "by", "from_status", "to_status", "reason"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class SubmissionInline(admin.TabularInline):
    model = Submission
    extra = 0
    can_delete = False
    fields = ["reference", "submitted_at", "submitted_by", "content_sha256", "pdf_rendered_at"]
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


class DeadlineForm(forms.Form):
    until = forms.SplitDateTimeField(label="Nouveau délai (heure de Paris)", widget=admin.widgets.AdminSplitDateTime)
    reason = forms.CharField(label="Motif", widget=forms.Textarea(attrs={"rows": 3}))


@admin.register(Dossier)
class DossierAdmin(NarrowedHistoryAdmin):
    list_display = ["__str__", "consortium", "call", "status", "submitted_at", "deadline_display"]
    list_filter = ["call", "status", "consortium__region", "consortium__territory_priority", "consortium__maturity"]
    list_select_related = ["consortium", "call", "current_submission"]
    # What the columns read: not the call's description nor the consortium's other fields, 50 times.
    list_loaded_fields = [
        "reference",
        "status",
        "deadline_override",
        "consortium",
        "call",
        "current_submission",
        "consortium__name",
        "call__title",
        "call__closes_at",
        "current_submission__submitted_at",
    ]
    # Newest calls first, served by the unique index on (call, number): the model's ordering goes
    # through the call's closing date, which makes PostgreSQL sort every dossier on every page.
    ordering = ["-call_id", "number", "pk"]
    search_fields = ["reference", "consortium__name", "consortium__organisations__siret"]
    readonly_fields = [
        "call",
        "consortium",
        "status",
        "number",
        "reference",
        "current_submission",
        "deadline_override",
        "withdrawn_reason",
        "created_at",
        "updated_at",
    ]
    fields = readonly_fields
    inlines = [SubmissionInline, DossierEventInline]
    actions = ["grant_own_deadline"]

    def has_add_permission(self, request):
        return False

    def get_queryset(self, request):
        # The list shows when a dossier was submitted, not its frozen content (tens of kB each).
        return super().get_queryset(request).defer("current_submission__content")

    @admin.display(description="déposé le", ordering="current_submission__submitted_at")
    def submitted_at(self, dossier):
        return dossier.current_submission.submitted_at if dossier.current_submission else None

    @admin.display(description="date limite")
    def deadline_display(self, dossier):
        return timezone.localtime(dossier.deadline).strftime("%d/%m/%Y %H:%M")

    @admin.action(description="Accorder un délai propre (prolongation ou réouverture pour corrections)")
    def grant_own_deadline(self, request, queryset):
        if "apply" in request.POST:
            form = DeadlineForm(request.POST)
            if form.is_valid():
                done = 0
                for dossier in queryset.select_related("call"):
                    try:
                        services.grant_deadline(
                            dossier,
                            until=form.cleaned_data["until"],
                            reason=form.cleaned_data["reason"],
                            by=request.user,
                        )
                        done += 1
                    except services.DossierLocked as refusal:
                        self.message_user(request, f"{dossier} : {refusal}", messages.ERROR)
                self.message_user(request, f"Délai accordé à {done} dossier(s).", messages.SUCCESS)
                return None
        else:
            form = DeadlineForm()
        return render(
            request,
            "admin/applications/dossier/grant_deadline.html",
            {
                **self.admin_site.each_context(request),
                "form": form,
                "dossiers": queryset,
                "title": "Accorder un délai propre",
            },
        )


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    list_display = ["reference", "dossier", "version", "submitted_at", "submitted_by", "pdf_rendered_at"]
    ordering = ["dossier", "-version"]  # by call and dossier number, as before the model's ordering went by id
    list_select_related = ["dossier__consortium", "submitted_by"]
    search_fields = ["reference", "dossier__consortium__name", "content_sha256"]
    readonly_fields = [
        "dossier",
        "version",
        "reference",
        "submitted_at",
        "submitted_by",
        "content_sha256",
        "pdf",
        "pdf_sha256",
        "pdf_rendered_at",
        "receipts_sent_at",
        "changes_since_previous",
    ]
    exclude = ["content"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="modifications depuis la version précédente")
    def changes_since_previous(self, submission):
        previous = Submission.objects.filter(dossier=submission.dossier_id, version__lt=submission.version).first()
        if previous is None:
            return "Première version."
        changes = services.snapshot_diff(previous.content, submission.content)
        if not changes:
            return "Aucune différence de contenu."
        rows = format_html_join(
            "", "<tr><th>{}</th><td>{}</td><td>{}</td></tr>", ((c["label"], c["old"], c["new"]) for c in changes)
        )
        return format_html(
            "<table><thead><tr><th>Champ</th><th>{}</th><th>{}</th></tr></thead><tbody>{}</tbody></table>",
            previous.reference,
            submission.reference,
            rows,
        )


@admin.register(Attachment)
class AttachmentAdmin(admin.ModelAdmin):
    list_display = ["original_name", "dossier", "type", "size", "uploaded_at", "removed_at"]
    ordering = ["dossier", "type__position", "uploaded_at"]  # as SubmissionAdmin
    list_select_related = ["dossier__consortium", "type"]
    search_fields = ["original_name", "sha256", "dossier__reference"]
    readonly_fields = [
        "dossier",
        "type",
        "file",
        "original_name",
        "content_type",
        "size",
        "sha256",
        "uploaded_at",
        "uploaded_by",
        "removed_at",
    ]
    exclude = ["uuid"]

    def has_add_permission(self, request):
        return False
