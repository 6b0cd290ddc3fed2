"""Criteria, reviewer profiles, conflicts of interest, assignments, reviews and their scores."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from applications.models import Call, Dossier, Region, Sector


class Criterion(models.Model):
    """A scoring criterion of a call. Frozen once reviewing has started (services check)."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="criteria", verbose_name="appel")
    name = models.CharField("critère", max_length=200)
    guidance = models.TextField("grille de lecture", blank=True)
    weight = models.PositiveSmallIntegerField("pondération", default=1, validators=[MinValueValidator(1)])
    scale_max = models.PositiveSmallIntegerField("note maximale", default=5, validators=[MinValueValidator(1)])
    allows_not_applicable = models.BooleanField("« sans objet » possible", default=False)
    eliminatory_below = models.PositiveSmallIntegerField(
        "seuil éliminatoire",
        null=True,
        blank=True,
        help_text="Un dossier dont la note moyenne sur ce critère est inférieure est écarté.",
    )
    position = models.PositiveSmallIntegerField("ordre", default=0)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "critère d'évaluation"
        verbose_name_plural = "critères d'évaluation"
        ordering = ["call_id", "position", "pk"]

    def __str__(self) -> str:
        return self.name


class ReviewerProfile(models.Model):
    """What a reviewer declares: capacity, expertise, and ties that create conflicts of interest."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reviewer_profile", verbose_name="évaluateur"
    )
    capacity = models.PositiveSmallIntegerField("nombre maximal de dossiers", default=20)
    home_region = models.CharField("région de rattachement", max_length=3, choices=Region.choices, blank=True)
    regions = ArrayField(
        models.CharField(max_length=3, choices=Region.choices), verbose_name="régions connues", default=list, blank=True
    )
    sectors = ArrayField(
        models.CharField(max_length=30, choices=Sector.choices),
        verbose_name="secteurs d'expertise",
        default=list,
        blank=True,
    )
    sirets = ArrayField(
        models.CharField(max_length=14),
        verbose_name="SIRET des structures liées",
        default=list,
        blank=True,
        help_text="Structures où l'évaluateur travaille, siège ou a des intérêts.",
    )
    email_domains = ArrayField(
        models.CharField(max_length=120), verbose_name="domaines de messagerie liés", default=list, blank=True
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = "profil d'évaluateur"
        verbose_name_plural = "profils d'évaluateurs"

    def __str__(self) -> str:
        return str(self.user)


class Conflict(models.Model):
    """A conflict of interest: the reviewer is never assigned the dossier and cannot open it."""

    class Source(models.TextChoices):
        DECLARED = "declared", "Déclaré par l'évaluateur"
        SIREN = "siren", "Détecté : même SIREN qu'une structure membre"
        DOMAIN = "domain", "Détecté : même domaine de messagerie"
        STAFF = "staff", "Enregistré par l'équipe du programme"

    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conflicts", verbose_name="évaluateur"
    )
    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="conflicts", verbose_name="dossier")
    source = models.CharField("origine", max_length=10, choices=Source.choices)
    reason = models.TextField("motif", blank=True)
    recorded_at = models.DateTimeField("enregistré le", auto_now_add=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = "conflit d'intérêts"
        verbose_name_plural = "conflits d'intérêts"
        constraints = [models.UniqueConstraint(fields=["reviewer", "dossier"], name="conflict_once_per_pair")]

    def __str__(self) -> str:
        return f"{self.reviewer} / {self.dossier}"


class AssignmentQuerySet(models.QuerySet):
    def of_reviewer(self, user) -> AssignmentQuerySet:
        """A reviewer's own assignments, never one where a conflict is recorded."""
        return self.filter(reviewer=user).exclude(dossier__conflicts__reviewer=user)


class Assignment(models.Model):
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="assignments", verbose_name="évaluateur"
    )
    dossier = models.ForeignKey(Dossier, on_delete=models.PROTECT, related_name="assignments", verbose_name="dossier")
    assigned_at = models.DateTimeField("attribué le", auto_now_add=True)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="par"
    )
    due_at = models.DateTimeField("à rendre le", null=True, blank=True)
    no_conflict_confirmed_at = models.DateTimeField("absence de conflit confirmée le", null=True, blank=True)

    objects = AssignmentQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = "évaluation attribuée"
        verbose_name_plural = "évaluations attribuées"
        ordering = ["due_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["reviewer", "dossier"], name="assignment_once_per_pair")]

    def __str__(self) -> str:
        return f"{self.dossier} — {self.reviewer}"


class Review(models.Model):
    class Recommendation(models.TextChoices):
        FUND = "fund", "Financer"
        FUND_WITH_CONDITIONS = "conditions", "Financer sous conditions"
        DO_NOT_FUND = "reject", "Ne pas financer"

    class Status(models.TextChoices):
        DRAFT = "draft", "Brouillon"
        SUBMITTED = "submitted", "Remise"

    assignment = models.OneToOneField(Assignment, on_delete=models.PROTECT, related_name="review")
    status = models.CharField("statut", max_length=10, choices=Status.choices, default=Status.DRAFT)
    recommendation = models.CharField("recommandation", max_length=12, choices=Recommendation.choices, blank=True)
    overall_comment = models.TextField("avis général", blank=True)
    weighted_total = models.DecimalField(
        "note pondérée (sur 100)", max_digits=6, decimal_places=2, null=True, blank=True, editable=False
    )
    submitted_at = models.DateTimeField("remise le", null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "évaluation"
        verbose_name_plural = "évaluations"
        constraints = [
            models.CheckConstraint(
                condition=Q(status="draft") | Q(submitted_at__isnull=False), name="review_submitted_has_time"
            )
        ]

    def __str__(self) -> str:
        return f"Évaluation de {self.assignment}"


class Score(models.Model):
    """One criterion's score in a review. `value` None means "not applicable": missing, never zero."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="scores")
    criterion = models.ForeignKey(Criterion, on_delete=models.PROTECT, related_name="scores")
    value = models.PositiveSmallIntegerField("note", null=True, blank=True)
    not_applicable = models.BooleanField("sans objet", default=False)
    comment = models.TextField("commentaire", blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "note"
        verbose_name_plural = "notes"
        constraints = [models.UniqueConstraint(fields=["review", "criterion"], name="score_once_per_criterion")]

    def __str__(self) -> str:
        return f"{self.criterion}: {'sans objet' if self.not_applicable else self.value}"


class ReviewUnlock(models.Model):
    """Staff reopening a submitted review, with the reason (the trace rule 7 asks for)."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="unlocks")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    reason = models.TextField("motif")

    class Meta:
        verbose_name = "déverrouillage d'évaluation"
        verbose_name_plural = "déverrouillages d'évaluations"
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.review} — {self.at:%d/%m/%Y}"


class Message(models.Model):
    """A message in a dossier's clarification thread between program staff and the team.
    Answers never change a submitted version: they are shown beside it."""

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="messages", verbose_name="dossier")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="auteur"
    )
    from_staff = models.BooleanField("de l'équipe du programme", default=False)
    body = models.TextField("message")
    attachment = models.FileField("pièce jointe", blank=True)
    attachment_name = models.CharField(max_length=150, blank=True)
    attachment_sha256 = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField("envoyé le", auto_now_add=True)
    read_by = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="+", blank=True, verbose_name="lu par")

    history = HistoricalRecords(excluded_fields=["read_by"])

    class Meta:
        verbose_name = "message"
        verbose_name_plural = "messages"
        ordering = ["dossier_id", "created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.dossier} — {self.created_at:%d/%m/%Y %H:%M}"


# --- The stored ranking (reviews.ranking_store) ---


class RankingStamp(models.Model):
    """A counter per call, bumped by database triggers (migration 0004) in every transaction
    that changes what the ranking reads: dossiers entering or leaving the ranked statuses,
    assignments, submitted reviews and their scores, criteria, the disagreement threshold. Never
    written by Python code, so no write path (admin, bulk update, raw SQL) can forget it."""

    call_id = models.BigIntegerField(primary_key=True)  # not a foreign key: bumped even while a call is deleted
    version = models.BigIntegerField(default=0)
    txid = models.BigIntegerField(default=0)  # the last transaction that bumped it (one bump each)
    # Bumped (migration 0006) when a pole of the call is renamed or changes region or territorial
    # priority: the ranking does not move, but what the selection console caches shows them.
    labels = models.BigIntegerField(default=0, db_default=0)  # the triggers insert rows without it

    class Meta:
        verbose_name = "version du classement"

    def __str__(self) -> str:
        return f"Appel {self.call_id} — version {self.version}"


class RankingSnapshot(models.Model):
    """Which stamp version (and which calibration settings) the stored rows were computed from."""

    call = models.OneToOneField(Call, on_delete=models.CASCADE, primary_key=True, related_name="+")
    version = models.BigIntegerField()
    settings_key = models.CharField(max_length=100)
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "classement calculé"

    def __str__(self) -> str:
        return f"{self.call} — version {self.version}"


class RankedDossier(models.Model):
    """One dossier's line of the stored ranking: its place in both orders and its scores."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="+")
    dossier = models.OneToOneField(Dossier, on_delete=models.CASCADE, related_name="+")
    position_calibrated = models.PositiveIntegerField()
    position_raw = models.PositiveIntegerField()
    ranked_calibrated = models.BooleanField()  # has a rank in that order (scored, not eliminated)
    ranked_raw = models.BooleanField()
    assigned = models.PositiveIntegerField()
    totals = ArrayField(models.FloatField())
    raw_mean = models.FloatField(null=True)
    median = models.FloatField(null=True)
    spread = models.FloatField(null=True)
    calibrated = models.FloatField(null=True)
    disagreement = models.BooleanField()
    eliminated_by = ArrayField(models.CharField(max_length=200))
    requested = ArrayField(models.BigIntegerField(), default=list)  # euros asked per funding year, as submitted

    class Meta:
        verbose_name = "ligne du classement calculé"
        indexes = [
            models.Index(fields=["call", "position_calibrated"], name="ranked_by_calibrated"),
            models.Index(fields=["call", "position_raw"], name="ranked_by_raw"),
        ]

    def __str__(self) -> str:
        return f"{self.dossier} — {self.position_calibrated}"

    @property
    def done(self) -> int:
        return len(self.totals)
