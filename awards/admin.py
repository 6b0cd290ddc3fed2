"""Decisions, awards, tranches, reports and the letters outbox in the admin. Every change goes
through awards.services, so the envelope and the tranche rules hold here as everywhere; a refusal
shows as a French form error, never as a server error."""

from __future__ import annotations

import re

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.forms.models import BaseInlineFormSet

from accounts.admin import NarrowedHistoryAdmin
from applications.admin import CallAdmin
from applications.models import Call
from applications.sections import format_euros

from . import services, views
from .models import ActivityReport, Award, Decision, DecisionLetter, Tranche

# --- Decisions ---


def parse_amounts(text: str) -> list[int] | None:
    if not text.strip():
        return None
    try:
        return [int(re.sub(r"[\s\u00a0\u202f€]", "", part)) for part in text.split(";")]
    except ValueError:
        raise ValidationError(
            "Indiquez des montants entiers en euros, un par année, séparés par « ; » (par exemple 90 000 ; 80 000 ; 70 000)."
        ) from None


class DecisionForm(forms.ModelForm):
    amounts = forms.CharField(
        label="Subvention par année (€)",
        required=False,
        help_text="Pour un lauréat : un montant par année de financement, séparés par « ; ». "
        "Vide : le montant demandé. L'enveloppe de l'appel est contrôlée à l'enregistrement.",
    )

    request = None  # set by DecisionAdmin.get_form: the service names its actor

    class Meta:
        model = Decision
        fields = ["dossier", "outcome", "committee_date", "rationale"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        award = Award.objects.filter(decision_id=self.instance.pk).first() if self.instance.pk else None
        if award is not None:
            self.initial["amounts"] = " ; ".join(f"{amount:,}".replace(",", " ") for amount in award.amounts)

    def clean_amounts(self) -> list[int] | None:
        return parse_amounts(self.cleaned_data["amounts"])

    def _post_clean(self):
        super()._post_clean()
        if self.errors:
            return
        # The decision is written here, once everything else validated (this form has no inlines),
        # inside the admin's transaction: the envelope is checked by set_award under the call's
        # lock, so its refusal can only be known by writing, and it must come back as a form error.
        data = self.cleaned_data
        try:
            self.decision = services.record_decision(
                data.get("dossier") or self.instance.dossier,
                outcome=data["outcome"],
                committee_date=data["committee_date"],
                rationale=data.get("rationale", ""),
                amounts=data["amounts"] if data["outcome"] == Decision.Outcome.LAUREATE else None,
                by=self.request.user,
            )
        except services.EnvelopeExceeded as refusal:
            self.add_error("amounts", refusal)
        except ValidationError as refusal:
            self.add_error(None, refusal)


@admin.register(Decision)
class DecisionAdmin(NarrowedHistoryAdmin):
    form = DecisionForm
    list_display = ["dossier", "pole", "outcome", "committee_date", "award_total"]
    list_filter = ["dossier__call", "outcome"]
    list_select_related = ["dossier__consortium", "award"]
    search_fields = ["dossier__reference", "dossier__consortium__name"]
    raw_id_fields = ["dossier"]
    actions = ["export_csv", "export_xlsx", "export_pdf"]

    def get_fields(self, request, obj=None):
        return ["dossier", "outcome", "committee_date", "amounts", "rationale"] + (
            ["decided_by", "decided_at"] if obj else []
        )

    def get_readonly_fields(self, request, obj=None):
        return ["dossier", "decided_by", "decided_at"] if obj else []

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.request = request
        return form

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.dossier.call.results_published_at:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.dossier.call.results_published_at:
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        # Already saved by services.record_decision in the form's validation.
        obj.pk = form.decision.pk
        obj._state.adding = False

    @admin.display(description="pôle", ordering="dossier__consortium__name")
    def pole(self, decision):
        return decision.dossier.consortium.name

    @admin.display(description="subvention")
    def award_total(self, decision):
        award = getattr(decision, "award", None)
        return format_euros(award.total) if award else "—"

    def _export(self, request, queryset, fmt):
        calls = set(queryset.values_list("dossier__call", flat=True))
        if len(calls) != 1:
            self.message_user(request, "Sélectionnez des décisions d'un seul appel.", messages.ERROR)
            return None
        return views.export_response(Call.objects.get(pk=calls.pop()), "laureats", fmt)

    @admin.action(description="Exporter les lauréats de l'appel (CSV)", permissions=["view"])
    def export_csv(self, request, queryset):
        return self._export(request, queryset, "csv")

    @admin.action(description="Exporter les lauréats de l'appel (XLSX)", permissions=["view"])
    def export_xlsx(self, request, queryset):
        return self._export(request, queryset, "xlsx")

    @admin.action(description="Exporter les lauréats de l'appel (PDF)", permissions=["view"])
    def export_pdf(self, request, queryset):
        return self._export(request, queryset, "pdf")


# --- Awards and their payment schedule ---


class TrancheFormSet(BaseInlineFormSet):
    """The schedule as a whole: its sum must equal the award, statuses follow Tranche.TRANSITIONS,
    and nothing but statuses changes once a tranche is paid. Saved through the services."""

    def clean(self):
        super().clean()
        self.rows = []
        self.schedule_changed = False
        if any(self.errors):
            return
        award = self.instance
        rows = [
            form for form in self.forms if getattr(form, "cleaned_data", None) and not self._should_delete_form(form)
        ]
        total = sum(form.cleaned_data["amount"] for form in rows)
        if total != award.total:
            raise ValidationError(
                f"La somme des tranches ({format_euros(total)}) doit être égale à la subvention "
                f"({format_euros(award.total)})."
            )
        current = list(award.tranches.order_by("position"))
        schedule = [(form.cleaned_data["planned_date"], form.cleaned_data["amount"]) for form in rows]
        changed = schedule != [(tranche.planned_date, tranche.amount) for tranche in current]
        if changed and any(tranche.status == Tranche.Status.PAID for tranche in current):
            raise ValidationError(
                "Une tranche a déjà été payée : l'échéancier ne peut plus être modifié, seuls les statuts peuvent changer."
            )
        labels = dict(Tranche.Status.choices)
        for form in rows:
            # A new schedule is created with every tranche planned: statuses move on from there.
            before = Tranche.Status.PLANNED if changed or not form.instance.pk else form.initial["status"]
            wanted = form.cleaned_data["status"]
            if wanted != before and wanted not in Tranche.TRANSITIONS[before]:
                form.add_error(
                    "status", f"Passage impossible de « {labels[before]} » à « {labels[wanted]} » en une fois."
                )
            if "paid_date" in form.changed_data and not (wanted == Tranche.Status.PAID and wanted != before):
                form.add_error("paid_date", "La date de paiement se saisit en passant la tranche à « Payée ».")
        self.rows = rows
        self.schedule_changed = changed

    def apply(self, *, by) -> None:
        award = self.instance
        # What the admin's change message reads after a formset.save(), which the services replace.
        self.new_objects, self.changed_objects, self.deleted_objects = [], [], []
        if self.schedule_changed:
            services.set_tranches(
                award,
                schedule=[(form.cleaned_data["planned_date"], form.cleaned_data["amount"]) for form in self.rows],
                by=by,
            )
            tranches = list(award.tranches.order_by("position"))
        else:
            fresh = {tranche.pk: tranche for tranche in award.tranches.all()}
            tranches = [fresh[form.instance.pk] for form in self.rows]
        for tranche, form in zip(tranches, self.rows, strict=True):
            services.set_tranche_status(
                tranche, form.cleaned_data["status"], by=by, paid_date=form.cleaned_data.get("paid_date")
            )


class TrancheInline(admin.TabularInline):
    model = Tranche
    formset = TrancheFormSet
    extra = 0
    fields = ["position", "planned_date", "amount", "status", "paid_date"]
    readonly_fields = ["position"]

    def _schedule_editable(self, request, award) -> bool:
        # Adding or removing a tranche changes the schedule, a change of the award's tranches.
        return self.has_change_permission(request, award) and not (
            award is not None and award.tranches.filter(status=Tranche.Status.PAID).exists()
        )

    def has_add_permission(self, request, obj=None):
        return self._schedule_editable(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._schedule_editable(request, obj)


@admin.register(Award)
class AwardAdmin(NarrowedHistoryAdmin):
    list_display = ["dossier", "pole", "call", "total_display", "payable_tranches"]
    list_filter = ["call"]
    list_select_related = ["decision__dossier__consortium", "call"]
    # What the columns read: not the decision's rationale nor the call's description, 50 times.
    list_loaded_fields = [
        "decision",
        "call",
        "total",
        "call__title",
        "decision__dossier",
        "decision__dossier__reference",
        "decision__dossier__consortium",
        "decision__dossier__consortium__name",
    ]
    search_fields = ["decision__dossier__reference", "decision__dossier__consortium__name"]
    fields = ["decision", "call", "amounts_display", "total_display"]
    readonly_fields = fields
    inlines = [TrancheInline]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        pass  # nothing of the award itself is edited here: amounts change through its decision

    def save_formset(self, request, form, formset, change):
        if isinstance(formset, TrancheFormSet):
            formset.apply(by=request.user)
        else:
            super().save_formset(request, form, formset, change)

    @admin.display(description="dossier", ordering="decision__dossier__number")
    def dossier(self, award):
        return award.decision.dossier

    @admin.display(description="pôle")
    def pole(self, award):
        return award.decision.dossier.consortium.name

    @admin.display(description="subvention par année")
    def amounts_display(self, award):
        return " ; ".join(
            f"{year} : {format_euros(amount)}"
            for year, amount in zip(award.call.funding_year_list, award.amounts, strict=False)
        )

    @admin.display(description="total", ordering="total")
    def total_display(self, award):
        return format_euros(award.total)

    @admin.display(description="tranches à payer", ordering="payable_tranche_count")
    def payable_tranches(self, award):
        return award.payable_tranche_count

    def get_queryset(self, request):
        # Counted by the database in the page's own query, not by loading every tranche of the page.
        payable = (
            Tranche.objects.filter(award=OuterRef("pk"), status=Tranche.Status.PAYABLE)
            .order_by()
            .values("award")
            .annotate(count=Count("pk"))
            .values("count")
        )
        return super().get_queryset(request).annotate(payable_tranche_count=Coalesce(Subquery(payable), 0))


# --- Reports ---


class ApprovedFilter(admin.SimpleListFilter):
    title = "approbation"
    parameter_name = "approuve"

    def lookups(self, request, model_admin):
        return [("non", "En attente"), ("oui", "Approuvés")]

    def queryset(self, request, queryset):
        if self.value() in ("oui", "non"):
            return queryset.filter(approved_at__isnull=self.value() == "non")
        return queryset


@admin.register(ActivityReport)
class ActivityReportAdmin(NarrowedHistoryAdmin):
    list_display = ["dossier", "year_index", "original_name", "uploaded_at", "uploaded_by", "approved_at"]
    list_filter = ["award__call", ApprovedFilter]
    list_select_related = ["award__decision__dossier", "uploaded_by"]
    search_fields = ["award__decision__dossier__reference", "original_name", "sha256"]
    fields = [
        "award",
        "year_index",
        "file",
        "original_name",
        "sha256",
        "uploaded_at",
        "uploaded_by",
        "approved_at",
        "approved_by",
    ]
    readonly_fields = fields
    actions = ["approve"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="dossier", ordering="award__decision__dossier__number")
    def dossier(self, report):
        return report.award.decision.dossier

    @admin.action(
        description="Approuver les rapports sélectionnés (rend la tranche suivante payable)", permissions=["change"]
    )
    def approve(self, request, queryset):
        count = 0
        for report in queryset.select_related("award"):
            services.approve_report(report, by=request.user)
            count += 1
        self.message_user(
            request, f"{count} rapport(s) approuvé(s) ; la tranche suivante de chacun est payable.", messages.SUCCESS
        )


# --- Letters outbox ---


class ReleasedFilter(admin.SimpleListFilter):
    title = "libération"
    parameter_name = "liberee"

    def lookups(self, request, model_admin):
        return [("non", "À libérer"), ("oui", "Libérées")]

    def queryset(self, request, queryset):
        if self.value() in ("oui", "non"):
            return queryset.filter(released_at__isnull=self.value() == "non")
        return queryset


class DecisionLetterForm(forms.ModelForm):
    class Meta:
        model = DecisionLetter
        fields = ["subject", "body"]

    def clean(self):
        data = super().clean()
        if self.instance.pk and DecisionLetter.objects.filter(pk=self.instance.pk, released_at__isnull=False).exists():
            raise ValidationError("Cette lettre a été libérée entre-temps : elle ne peut plus être modifiée.")
        return data


@admin.register(DecisionLetter)
class DecisionLetterAdmin(NarrowedHistoryAdmin):
    form = DecisionLetterForm
    list_display = ["subject", "dossier", "recipient_count", "pdf_ready", "released_at", "sent_count"]
    list_filter = ["decision__dossier__call", ReleasedFilter]
    list_select_related = ["decision__dossier"]
    search_fields = ["subject", "decision__dossier__reference", "decision__dossier__consortium__name"]
    fields = [
        "decision",
        "recipients_display",
        "subject",
        "body",
        "pdf",
        "pdf_rendered_at",
        "released_at",
        "released_by",
        "sent_to",
    ]
    actions = ["release"]

    def get_readonly_fields(self, request, obj=None):
        readonly = ["decision", "recipients_display", "pdf", "pdf_rendered_at", "released_at", "released_by", "sent_to"]
        if obj is not None and obj.released_at:
            readonly += ["subject", "body"]
        return readonly

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="dossier", ordering="decision__dossier__number")
    def dossier(self, letter):
        return letter.decision.dossier

    @admin.display(description="destinataires")
    def recipients_display(self, letter):
        return ", ".join(letter.recipients)

    @admin.display(description="destinataires")
    def recipient_count(self, letter):
        return len(letter.recipients)

    @admin.display(description="PDF prêt", boolean=True)
    def pdf_ready(self, letter):
        return letter.pdf_rendered_at is not None

    @admin.display(description="envoyée à")
    def sent_count(self, letter):
        return f"{len(letter.sent_to)} / {len(letter.recipients)}"

    @admin.action(description="Libérer les lettres sélectionnées (envoi par e-mail)", permissions=["change"])
    def release(self, request, queryset):
        count = services.release_letters(list(queryset.filter(released_at__isnull=True)), by=request.user)
        self.message_user(request, f"{count} lettre(s) libérée(s) : elles partent par e-mail.", messages.SUCCESS)


# The call's admin page, extended from the app that knows the awards (dependencies point one way).
admin.site.unregister(Call)


@admin.register(Call)
class CallWithEnvelopeAdmin(CallAdmin):
    readonly_fields = [*CallAdmin.readonly_fields, "envelope_status"]

    @admin.display(description="enveloppe")
    def envelope_status(self, call: Call) -> str:
        if call.pk is None:
            return "—"
        book = services.ledger(call)
        return (
            f"{format_euros(book.awarded_total)} attribués, {format_euros(book.remaining)} restants "
            f"sur {format_euros(book.envelope)} ; {book.laureates} lauréat(s) pour {book.target} visés."
        )
