"""Committee decisions, awards within the call's envelope, payment tranches, follow-up reports,
and the decision letters waiting in an outbox until staff release them."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from simple_history.models import HistoricalRecords

from applications.models import Call, Dossier


class Decision(models.Model):
    class Outcome(models.TextChoices):
        LAUREATE = "laureate", "Lauréat"
        WAITING_LIST = "waiting_list", "Liste d'attente"
        NOT_SELECTED = "not_selected", "Non retenu"

    dossier = models.OneToOneField(Dossier, on_delete=models.PROTECT, related_name="decision", verbose_name="dossier")
    outcome = models.CharField("décision", max_length=15, choices=Outcome.choices)
    committee_date = models.DateField("date du comité")
    rationale = models.TextField("motivation", blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField("enregistrée le", auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "décision"
        verbose_name_plural = "décisions"
        ordering = ["dossier__call", "dossier__number"]

    def __str__(self) -> str:
        return f"{self.dossier} — {self.get_outcome_display()}"


class Award(models.Model):
    """The grant of a laureate: an amount per funding year. The sum over a call never exceeds
    its envelope (awards.services.set_award locks the call row to guarantee it)."""

    decision = models.OneToOneField(Decision, on_delete=models.CASCADE, related_name="award")
    call = models.ForeignKey(Call, on_delete=models.PROTECT, related_name="awards", editable=False)
    amounts = ArrayField(models.PositiveIntegerField(), verbose_name="montant par année (€)")
    total = models.PositiveBigIntegerField("total (€)", editable=False)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "subvention"
        verbose_name_plural = "subventions"

    def __str__(self) -> str:
        return f"{self.decision.dossier} — {self.total} €"


class Tranche(models.Model):
    class Status(models.TextChoices):
        PLANNED = "planned", "Prévue"
        PAYABLE = "payable", "À payer"
        PAID = "paid", "Payée"
        CANCELLED = "cancelled", "Annulée"

    TRANSITIONS: dict[str, set[str]] = {
        Status.PLANNED: {Status.PAYABLE, Status.CANCELLED},
        Status.PAYABLE: {Status.PAID, Status.CANCELLED, Status.PLANNED},
        Status.PAID: set(),
        Status.CANCELLED: {Status.PLANNED},
    }

    award = models.ForeignKey(Award, on_delete=models.CASCADE, related_name="tranches")
    position = models.PositiveSmallIntegerField("n°")
    planned_date = models.DateField("date prévue")
    amount = models.PositiveIntegerField("montant (€)")
    status = models.CharField("statut", max_length=10, choices=Status.choices, default=Status.PLANNED)
    paid_date = models.DateField("payée le", null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "tranche de paiement"
        verbose_name_plural = "tranches de paiement"
        ordering = ["award", "position"]
        constraints = [models.UniqueConstraint(fields=["award", "position"], name="tranche_unique_position")]

    def __str__(self) -> str:
        return f"Tranche {self.position} — {self.amount} €"


class ActivityReport(models.Model):
    """The laureate's yearly activity and financial report; approving it makes the next tranche payable."""

    award = models.ForeignKey(Award, on_delete=models.CASCADE, related_name="reports")
    year_index = models.PositiveSmallIntegerField("année du programme (1, 2, 3)")
    file = models.FileField("rapport")
    original_name = models.CharField("nom du fichier", max_length=150)
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField("déposé le", auto_now_add=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    approved_at = models.DateTimeField("approuvé le", null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = "rapport d'activité"
        verbose_name_plural = "rapports d'activité"
        ordering = ["award", "year_index", "uploaded_at"]

    def __str__(self) -> str:
        return f"Rapport année {self.year_index} — {self.award}"


class DecisionLetter(models.Model):
    """A decision e-mail generated at publication; staff may read and edit it before release."""

    decision = models.OneToOneField(Decision, on_delete=models.CASCADE, related_name="letter")
    recipients = ArrayField(models.EmailField(), verbose_name="destinataires")
    subject = models.CharField("objet", max_length=200)
    body = models.TextField("message")
    pdf = models.FileField("lettre de décision (PDF)", blank=True)
    pdf_rendered_at = models.DateTimeField(null=True, blank=True)
    released_at = models.DateTimeField("libérée le", null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    sent_to = ArrayField(models.EmailField(), verbose_name="envoyée à", default=list, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "lettre de décision"
        verbose_name_plural = "lettres de décision"

    def __str__(self) -> str:
        return self.subject
