"""Calls, organisations, consortia (the poles), dossiers, attachments and submissions."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from .sirets import validate_siret


class Region(models.TextChoices):
    AUVERGNE_RHONE_ALPES = "ARA", "Auvergne-Rhône-Alpes"
    BOURGOGNE_FRANCHE_COMTE = "BFC", "Bourgogne-Franche-Comté"
    BRETAGNE = "BRE", "Bretagne"
    CENTRE_VAL_DE_LOIRE = "CVL", "Centre-Val de Loire"
    CORSE = "COR", "Corse"
    GRAND_EST = "GES", "Grand Est"
    HAUTS_DE_FRANCE = "HDF", "Hauts-de-France"
    ILE_DE_FRANCE = "IDF", "Île-de-France"
    NORMANDIE = "NOR", "Normandie"
    NOUVELLE_AQUITAINE = "NAQ", "Nouvelle-Aquitaine"
    OCCITANIE = "OCC", "Occitanie"
    PAYS_DE_LA_LOIRE = "PDL", "Pays de la Loire"
    PROVENCE_ALPES_COTE_D_AZUR = "PAC", "Provence-Alpes-Côte d'Azur"
    GUADELOUPE = "GUA", "Guadeloupe"
    GUYANE = "GUF", "Guyane"
    MARTINIQUE = "MTQ", "Martinique"
    MAYOTTE = "MAY", "Mayotte"
    LA_REUNION = "LRE", "La Réunion"


class TerritoryPriority(models.TextChoices):
    URBAN_PRIORITY_DISTRICT = "qpv", "Quartier prioritaire (quartier populaire)"
    DEINDUSTRIALISED_BASIN = "deindustrialised", "Bassin désindustrialisé"
    DECLINING_RURAL_AREA = "rural", "Zone rurale en déclin"
    NONE = "none", "Aucun"


class Maturity(models.TextChoices):
    EMERGING = "emerging", "Émergent"
    MATURE = "mature", "Mature"


class Sector(models.TextChoices):
    INSERTION = "insertion", "Insertion par l'activité économique"
    EARLY_CHILDHOOD = "early_childhood", "Petite enfance"
    RENEWABLE_ENERGY = "renewable_energy", "Énergies renouvelables"
    RECYCLING = "recycling", "Recyclage et réemploi"
    ORGANIC_FARMING = "organic_farming", "Agriculture biologique et circuits courts"
    POPULAR_EDUCATION = "popular_education", "Éducation populaire"
    SUSTAINABLE_CONSUMPTION = "sustainable_consumption", "Consommation durable"
    CULTURE = "culture", "Culture"
    MOBILITY = "mobility", "Mobilité"
    HOUSING = "housing", "Habitat et construction"
    SERVICES_TO_PEOPLE = "services_to_people", "Services à la personne"
    DIGITAL = "digital", "Numérique"
    OTHER = "other", "Autre"


class OrganisationKind(models.TextChoices):
    ESS_ASSOCIATION = "ess_association", "Association (ESS)"
    ESS_COOPERATIVE = "ess_cooperative", "Coopérative (ESS)"
    ESS_MUTUAL = "ess_mutual", "Mutuelle (ESS)"
    ESS_FOUNDATION = "ess_foundation", "Fondation (ESS)"
    ESUS_ENTERPRISE = "esus", "Entreprise solidaire d'utilité sociale (ESUS)"
    COMMERCIAL = "commercial", "Entreprise commerciale"
    LOCAL_AUTHORITY = "local_authority", "Collectivité territoriale"
    RESEARCH_CENTRE = "research", "Centre de recherche"
    TRAINING_BODY = "training", "Organisme de formation"
    OTHER = "other", "Autre"

    @classmethod
    def ess_kinds(cls) -> frozenset[str]:
        return frozenset(
            {cls.ESS_ASSOCIATION, cls.ESS_COOPERATIVE, cls.ESS_MUTUAL, cls.ESS_FOUNDATION, cls.ESUS_ENTERPRISE}
        )


# --- Calls ---


class CallQuerySet(models.QuerySet):
    def open_at(self, moment: dt.datetime) -> CallQuerySet:
        return self.filter(opens_at__lte=moment, closes_at__gt=moment)

    def published(self) -> CallQuerySet:
        return self.filter(is_published=True)


class Call(models.Model):
    """A call for projects. Everything call-specific is data here, so the next call needs no code."""

    title = models.CharField("intitulé", max_length=255)
    slug = models.SlugField("identifiant", unique=True)
    reference_prefix = models.CharField(
        "préfixe des numéros de dossier", max_length=20, unique=True, help_text="Par exemple PTCE-2013."
    )
    description = models.TextField("présentation", blank=True)
    opens_at = models.DateTimeField("ouverture")
    closes_at = models.DateTimeField(
        "clôture", help_text="Premier instant où plus aucun dépôt n'est accepté (heure de Paris)."
    )
    envelope = models.PositiveBigIntegerField("enveloppe (€)")
    target_laureates = models.PositiveSmallIntegerField("nombre de lauréats visé")
    funding_years = models.PositiveSmallIntegerField("nombre d'années de financement", default=3)
    first_funding_year = models.PositiveSmallIntegerField("première année de financement")
    min_ess_members = models.PositiveSmallIntegerField(
        "structures de l'ESS requises au minimum",
        default=1,
        help_text="Composition exigée du consortium : nombre minimal de structures de l'ESS.",
    )
    min_other_members = models.PositiveSmallIntegerField(
        "autres structures requises au minimum",
        default=1,
        help_text="Nombre minimal d'organisations d'une autre nature (entreprise, collectivité, recherche…).",
    )
    max_attachment_size = models.PositiveIntegerField(
        "taille maximale d'une pièce (octets)", null=True, blank=True, help_text="Vide : valeur par défaut du portail."
    )
    reviewers_per_dossier = models.PositiveSmallIntegerField("évaluateurs par dossier", default=2)
    require_outside_region_reviewer = models.BooleanField(
        "au moins un évaluateur hors de la région du dossier", default=False
    )
    disagreement_threshold = models.PositiveSmallIntegerField(
        "écart signalé entre évaluateurs (points sur 100)", default=25
    )
    is_published = models.BooleanField("visible des porteurs", default=True)
    results_published_at = models.DateTimeField("résultats publiés le", null=True, blank=True, editable=False)
    last_dossier_number = models.PositiveIntegerField("dernier numéro attribué", default=0, editable=False)
    closed_at = models.DateTimeField("clôturé le", null=True, blank=True, editable=False)
    closing_summary_sent_at = models.DateTimeField("bilan de clôture envoyé le", null=True, blank=True, editable=False)

    objects = CallQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = "appel à projets"
        verbose_name_plural = "appels à projets"
        ordering = ["-closes_at"]
        constraints = [
            models.CheckConstraint(condition=Q(closes_at__gt=models.F("opens_at")), name="call_closes_after_opening")
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("applications:call-detail", args=[self.slug])

    def is_open_at(self, moment: dt.datetime) -> bool:
        return self.opens_at <= moment < self.closes_at

    @property
    def funding_year_list(self) -> list[int]:
        return [self.first_funding_year + index for index in range(self.funding_years)]


class AttachmentType(models.Model):
    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="attachment_types", verbose_name="appel")
    code = models.SlugField("code")
    label = models.CharField("libellé", max_length=200)
    help_text = models.CharField("aide", max_length=300, blank=True)
    required = models.BooleanField("obligatoire", default=True)
    position = models.PositiveSmallIntegerField("ordre", default=0)

    class Meta:
        verbose_name = "type de pièce jointe"
        verbose_name_plural = "types de pièces jointes"
        # The parent's id, not the parent: ordering on a relation sorts by the parent's own ordering,
        # which joins the parent (and its parent) into every query of one parent's rows. Here and
        # in the other per-dossier and per-call models.
        ordering = ["call_id", "position", "pk"]
        constraints = [models.UniqueConstraint(fields=["call", "code"], name="attachment_type_unique_code")]

    def __str__(self) -> str:
        return self.label


# --- Consortia and organisations ---


class ConsortiumQuerySet(models.QuerySet):
    def visible_to(self, user) -> ConsortiumQuerySet:
        if not user.is_authenticated:
            return self.none()
        return self.filter(memberships__user=user)

    def editable_by(self, user) -> ConsortiumQuerySet:
        if not user.is_authenticated:
            return self.none()
        return self.filter(memberships__user=user, memberships__role__in=Membership.EDITING_ROLES)


class Consortium(models.Model):
    """The pole (PTCE): a group of organisations around a territory, led by one of them."""

    name = models.CharField("nom du pôle", max_length=200)
    communes = models.CharField(
        "communes", max_length=500, help_text="Communes du territoire, séparées par des virgules."
    )
    departement = models.CharField("département", max_length=3, help_text="Numéro, par exemple 93 ou 2A.")
    region = models.CharField("région", max_length=3, choices=Region.choices)
    territory_priority = models.CharField(
        "territoire prioritaire", max_length=20, choices=TerritoryPriority.choices, default=TerritoryPriority.NONE
    )
    maturity = models.CharField("maturité", max_length=10, choices=Maturity.choices)
    sectors = ArrayField(models.CharField(max_length=30, choices=Sector.choices), verbose_name="secteurs", default=list)
    created_at = models.DateTimeField("créé le", auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="créé par"
    )

    objects = ConsortiumQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = "consortium (pôle)"
        verbose_name_plural = "consortiums (pôles)"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("applications:consortium-detail", args=[self.pk])

    def get_sectors_display(self) -> str:
        labels = dict(Sector.choices)
        return ", ".join(labels.get(sector, sector) for sector in self.sectors)


class Organisation(models.Model):
    """A legal structure member of a consortium; one of them is the lead structure."""

    consortium = models.ForeignKey(
        Consortium, on_delete=models.CASCADE, related_name="organisations", verbose_name="consortium"
    )
    name = models.CharField("raison sociale", max_length=200)
    siret = models.CharField("SIRET", max_length=14, validators=[validate_siret])
    legal_form = models.CharField(
        "forme juridique", max_length=120, help_text="Par exemple : association loi 1901, SCIC, SARL."
    )
    kind = models.CharField("nature", max_length=20, choices=OrganisationKind.choices)
    address = models.CharField("adresse", max_length=255, blank=True)
    postcode = models.CharField("code postal", max_length=5, blank=True)
    commune = models.CharField("commune", max_length=120)
    email_domain = models.CharField(
        "domaine de messagerie", max_length=120, blank=True, help_text="Par exemple halage.fr."
    )
    is_lead = models.BooleanField("structure porteuse", default=False)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "organisation"
        verbose_name_plural = "organisations"
        ordering = ["-is_lead", "name"]
        constraints = [
            models.UniqueConstraint(fields=["consortium", "siret"], name="organisation_unique_siret_per_consortium"),
            models.UniqueConstraint(
                fields=["consortium"], condition=Q(is_lead=True), name="organisation_one_lead_per_consortium"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def siren(self) -> str:
        return self.siret[:9]

    @property
    def is_ess(self) -> bool:
        return self.kind in OrganisationKind.ess_kinds()


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "Propriétaire"
        EDITOR = "editor", "Rédacteur"
        READER = "reader", "Lecteur"

    EDITING_ROLES = (Role.OWNER, Role.EDITOR)

    consortium = models.ForeignKey(Consortium, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField("rôle", max_length=10, choices=Role.choices)
    joined_at = models.DateTimeField("depuis le", auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "membre de l'équipe"
        verbose_name_plural = "membres de l'équipe"
        ordering = ["consortium", "role", "user__email"]
        constraints = [models.UniqueConstraint(fields=["consortium", "user"], name="membership_unique_user")]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()})"

    @property
    def can_edit(self) -> bool:
        return self.role in self.EDITING_ROLES


class Invitation(models.Model):
    """An e-mailed invitation to join a consortium's team; single use, expires, revocable."""

    consortium = models.ForeignKey(Consortium, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField("adresse e-mail")
    role = models.CharField(
        "rôle",
        max_length=10,
        choices=[(r.value, r.label) for r in Membership.EDITING_ROLES]
        + [(Membership.Role.READER.value, Membership.Role.READER.label)],
    )
    token = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField("envoyée le", auto_now_add=True)
    expires_at = models.DateTimeField("expire le")
    accepted_at = models.DateTimeField("acceptée le", null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField("révoquée le", null=True, blank=True)

    class Meta:
        verbose_name = "invitation"
        verbose_name_plural = "invitations"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.email} → {self.consortium}"

    def is_usable_at(self, moment: dt.datetime) -> bool:
        return self.accepted_at is None and self.revoked_at is None and moment < self.expires_at


# --- Dossiers ---


class DossierQuerySet(models.QuerySet):
    def visible_to(self, user) -> DossierQuerySet:
        """Dossiers of the user's consortia. Reviewers' and staff's access goes through the admin."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(consortium__memberships__user=user).select_related("call", "consortium")

    def for_call(self, call: Call) -> DossierQuerySet:
        return self.filter(call=call)


class Dossier(models.Model):
    """One consortium's application to one call: a working copy in sections plus its submissions."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Brouillon"
        SUBMITTED = "submitted", "Déposé"
        UNDER_REVIEW = "under_review", "En instruction"
        LAUREATE = "laureate", "Lauréat"
        NOT_SELECTED = "not_selected", "Non retenu"
        WITHDRAWN = "withdrawn", "Retiré"
        EXPIRED = "expired", "Non déposé (délai expiré)"

    # Allowed moves; applied only by services.set_status().
    TRANSITIONS: dict[str, set[str]] = {
        Status.DRAFT: {Status.SUBMITTED, Status.WITHDRAWN, Status.EXPIRED},
        Status.SUBMITTED: {Status.UNDER_REVIEW, Status.WITHDRAWN, Status.DRAFT},
        Status.UNDER_REVIEW: {Status.LAUREATE, Status.NOT_SELECTED, Status.DRAFT},
        Status.WITHDRAWN: {Status.DRAFT, Status.SUBMITTED, Status.EXPIRED},
        Status.EXPIRED: {Status.DRAFT},
        Status.LAUREATE: set(),
        Status.NOT_SELECTED: set(),
    }

    call = models.ForeignKey(Call, on_delete=models.PROTECT, related_name="dossiers", verbose_name="appel")
    consortium = models.ForeignKey(
        Consortium, on_delete=models.PROTECT, related_name="dossiers", verbose_name="consortium"
    )
    status = models.CharField("statut", max_length=20, choices=Status.choices, default=Status.DRAFT, db_index=True)
    number = models.PositiveIntegerField("numéro", null=True, blank=True, editable=False)
    reference = models.CharField("référence", max_length=40, blank=True, editable=False, db_index=True)
    current_submission = models.ForeignKey(
        "Submission",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name="version qui fait foi",
    )
    deadline_override = models.DateTimeField(
        "délai propre au dossier",
        null=True,
        blank=True,
        help_text="Réouverture pour corrections ou prolongation accordée (heure de Paris).",
    )
    withdrawn_reason = models.TextField("motif du retrait", blank=True)
    sworn_statement_at = models.DateTimeField("déclaration sur l'honneur", null=True, blank=True)
    created_at = models.DateTimeField("créé le", auto_now_add=True)
    updated_at = models.DateTimeField("modifié le", auto_now=True)

    objects = DossierQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = "dossier"
        verbose_name_plural = "dossiers"
        ordering = ["call", "number", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["call", "consortium"], name="dossier_one_per_consortium_and_call"),
            models.UniqueConstraint(fields=["call", "number"], name="dossier_unique_number_per_call"),
        ]
        indexes = [
            # The admin's list order (newest call first, then by number): one index walk for a
            # page instead of sorting every dossier (a btree on (call, number) only serves both
            # columns in the same direction).
            models.Index(fields=["-call", "number", "id"], name="dossier_newest_call_first"),
        ]

    def __str__(self) -> str:
        return self.reference or f"{self.consortium} (brouillon)"

    def get_absolute_url(self) -> str:
        return reverse("applications:dossier-overview", args=[self.pk])

    @property
    def deadline(self) -> dt.datetime:
        """The instant from which this dossier can no longer be submitted."""
        if self.deadline_override and self.deadline_override > self.call.closes_at:
            return self.deadline_override
        return self.call.closes_at

    def is_open_at(self, moment: dt.datetime) -> bool:
        return self.call.opens_at <= moment < self.deadline


class DossierSection(models.Model):
    """One section of a dossier's working copy. `version` detects concurrent edits."""

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="sections")
    key = models.CharField("rubrique", max_length=40)
    data = models.JSONField("contenu", default=dict, blank=True)
    version = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField("modifié le", default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = "rubrique du dossier"
        verbose_name_plural = "rubriques du dossier"
        constraints = [models.UniqueConstraint(fields=["dossier", "key"], name="section_unique_key")]

    def __str__(self) -> str:
        return f"{self.dossier} — {self.key}"


def attachment_upload_to(instance: Attachment, filename: str) -> str:
    # The stored name is generated: nothing of the uploaded name reaches the file system.
    return f"dossiers/{instance.dossier_id}/{instance.uuid.hex}"


class Attachment(models.Model):
    """An uploaded file. Never deleted once uploaded: a submission may refer to it."""

    import uuid as _uuid

    uuid = models.UUIDField(default=_uuid.uuid4, unique=True, editable=False)
    dossier = models.ForeignKey(Dossier, on_delete=models.PROTECT, related_name="attachments")
    type = models.ForeignKey(
        AttachmentType, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="type"
    )
    file = models.FileField("fichier", upload_to=attachment_upload_to)
    original_name = models.CharField("nom du fichier", max_length=150)
    content_type = models.CharField("format", max_length=100)
    size = models.PositiveBigIntegerField("taille (octets)")
    sha256 = models.CharField("empreinte SHA-256", max_length=64)
    uploaded_at = models.DateTimeField("déposé le", auto_now_add=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    removed_at = models.DateTimeField("retiré le", null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="retiré par",
    )

    class ScanStatus(models.TextChoices):
        NOT_SCANNED = "not_scanned", "non analysée (pas d'antivirus configuré)"
        PENDING = "pending", "en attente d'analyse"
        CLEAN = "clean", "analysée, saine"
        INFECTED = "infected", "infectée"

    # Fails closed: with an antivirus configured, a file is neither downloadable nor counted for
    # submission until scanned clean (see applications.antivirus).
    USABLE_SCAN_STATUSES = (ScanStatus.NOT_SCANNED, ScanStatus.CLEAN)

    scan_status = models.CharField(
        "analyse antivirus", max_length=12, choices=ScanStatus.choices, default=ScanStatus.NOT_SCANNED
    )
    scanned_at = models.DateTimeField("analysée le", null=True, blank=True)
    scan_signature = models.CharField("signature détectée", max_length=200, blank=True)

    class Meta:
        verbose_name = "pièce jointe"
        verbose_name_plural = "pièces jointes"
        ordering = ["dossier_id", "type__position", "uploaded_at"]

    def __str__(self) -> str:
        return self.original_name

    @property
    def is_usable(self) -> bool:
        """May be downloaded and counts for submission: scanned clean, or no antivirus configured."""
        return self.scan_status in self.USABLE_SCAN_STATUSES


class Submission(models.Model):
    """A frozen, numbered, hashed version of a dossier. Never modified after creation."""

    dossier = models.ForeignKey(Dossier, on_delete=models.PROTECT, related_name="submissions")
    version = models.PositiveSmallIntegerField("version")
    reference = models.CharField("numéro", max_length=48, unique=True)
    submitted_at = models.DateTimeField("déposé le")
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    content = models.JSONField("contenu figé")
    content_sha256 = models.CharField("empreinte SHA-256", max_length=64)
    pdf = models.FileField("PDF", blank=True)
    pdf_sha256 = models.CharField("empreinte du PDF", max_length=64, blank=True)
    pdf_rendered_at = models.DateTimeField("PDF produit le", null=True, blank=True)
    receipts_sent_at = models.DateTimeField("accusés de réception envoyés le", null=True, blank=True)

    class Meta:
        verbose_name = "version déposée"
        verbose_name_plural = "versions déposées"
        ordering = ["dossier_id", "-version"]
        constraints = [models.UniqueConstraint(fields=["dossier", "version"], name="submission_unique_version")]

    def __str__(self) -> str:
        return self.reference


class DossierEvent(models.Model):
    """The trace of what happened to a dossier: status moves, extensions, reopenings."""

    class Kind(models.TextChoices):
        STATUS = "status", "Changement de statut"
        SUBMISSION = "submission", "Dépôt"
        EXTENSION = "extension", "Délai propre accordé"
        REOPENING = "reopening", "Réouverture pour corrections"

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField("nature", max_length=20, choices=Kind.choices)
    at = models.DateTimeField("le", default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="par"
    )
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    reason = models.TextField("motif", blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = "événement du dossier"
        verbose_name_plural = "événements du dossier"
        ordering = ["dossier_id", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} — {self.at:%d/%m/%Y %H:%M}"


class Reminder(models.Model):
    """A deadline reminder recorded for a dossier; unique per kind so it goes out once."""

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField("rappel", max_length=5)
    recorded_at = models.DateTimeField("enregistré le")
    sent_at = models.DateTimeField("envoyé le", null=True, blank=True)

    class Meta:
        verbose_name = "rappel d'échéance"
        verbose_name_plural = "rappels d'échéance"
        constraints = [models.UniqueConstraint(fields=["dossier", "kind"], name="reminder_once_per_kind")]

    def __str__(self) -> str:
        return f"{self.dossier} — {self.kind}"
