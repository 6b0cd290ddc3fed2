import datetime as dt
import hashlib

import factory
from django.utils import timezone

from accounts.roles import Role
from accounts.tests.factories import UserFactory
from applications.models import (
    AttachmentType,
    Call,
    Consortium,
    Dossier,
    Maturity,
    Membership,
    Organisation,
    OrganisationKind,
    Region,
    Sector,
    TerritoryPriority,
)
from applications.sirets import luhn_ok


def make_siret(n: int) -> str:
    """A valid SIRET (Luhn) built from a sequence number."""
    base = f"{(n * 7919) % 10**13:013d}"
    for check in "0123456789":
        if luhn_ok(base + check):
            return base + check
    raise AssertionError("unreachable: one check digit always fits")


class CallFactory(factory.django.DjangoModelFactory):
    """A call open now, closing in 30 days, shaped like PTCE 2013."""

    class Meta:
        model = Call
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Appel à projets PTCE n°{n}")
    slug = factory.Sequence(lambda n: f"ptce-{n}")
    reference_prefix = factory.Sequence(lambda n: f"PTCE-T{n}")
    opens_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=30))
    closes_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=30))
    envelope = 3_000_000
    target_laureates = 20
    funding_years = 3
    first_funding_year = 2014

    @factory.post_generation
    def attachment_types(self, create, extracted, **kwargs):
        if not create or extracted is False:
            return
        for position, (code, label) in enumerate(
            [("statuts", "Statuts de la structure porteuse"), ("budget", "Budget prévisionnel")]
        ):
            AttachmentType.objects.create(call=self, code=code, label=label, required=True, position=position)


class ConsortiumFactory(factory.django.DjangoModelFactory):
    """A pole with an owner (`owner=` to choose them); organisations via OrganisationFactory."""

    class Meta:
        model = Consortium
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Pôle coopératif {n}")
    communes = "L'Île-Saint-Denis, Saint-Denis"
    departement = "93"
    region = Region.ILE_DE_FRANCE
    territory_priority = TerritoryPriority.URBAN_PRIORITY_DISTRICT
    maturity = Maturity.MATURE
    sectors = factory.LazyFunction(lambda: [Sector.INSERTION, Sector.ORGANIC_FARMING])
    created_by = factory.SubFactory(UserFactory, role=Role.APPLICANT)

    @factory.post_generation
    def owner(self, create, extracted, **kwargs):
        if create:
            Membership.objects.create(consortium=self, user=extracted or self.created_by, role=Membership.Role.OWNER)


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    consortium = factory.SubFactory(ConsortiumFactory)
    name = factory.Sequence(lambda n: f"Association Halage {n}")
    siret = factory.Sequence(make_siret)
    legal_form = "Association loi 1901"
    kind = OrganisationKind.ESS_ASSOCIATION
    address = "1 quai de la Marine"
    postcode = "93450"
    commune = "L'Île-Saint-Denis"
    is_lead = False


class DossierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Dossier

    call = factory.SubFactory(CallFactory)
    consortium = factory.SubFactory(ConsortiumFactory)


def add_member(consortium: Consortium, role: str, user=None) -> Membership:
    return Membership.objects.create(consortium=consortium, user=user or UserFactory(role=Role.APPLICANT), role=role)


SECTION_DATA = {
    "resume": {
        "project_title": "Cité Phares : une fabrique de coopérations",
        "summary": "Regrouper dans une usine réhabilitée des structures de l'ESS et une entreprise classique.",
        "objectives": "Mutualiser les locaux, créer 30 emplois en insertion, ouvrir une épicerie bio.",
    },
    "mutualisation": {"premises": "Une ancienne usine de 4 000 m² partagée.", "services": "", "skills": ""},
    "innovation-sociale": {
        "description": "Parcours d'insertion croisés entre les structures.",
        "beneficiaries": "Habitants des quartiers prioritaires.",
    },
    "territoire": {
        "anchoring": "Installé depuis 2000 à L'Île-Saint-Denis.",
        "priority_justification": "Quartier populaire de Seine-Saint-Denis.",
        "local_partners": "Commune, Plaine Commune, université Paris 8.",
    },
    "emplois": {
        "existing_jobs": "50",
        "existing_integration_jobs": "20",
        "planned_jobs": "30",
        "non_relocatable_jobs": "60",
        "volunteers": "100",
        "description": "Emplois de service local et de recyclage.",
    },
    "transition-ecologique": {"description": "Réemploi des matériaux et alimentation biologique."},
    "gouvernance": {"description": "Une SCIC réunit les membres.", "decision_making": "Un membre, une voix."},
    "declaration": {"accepted": "on", "signatory_name": "Camille Porteur", "signatory_role": "Présidente"},
}


PDF_BYTES = b"%PDF-1.4\n%%EOF\n"


def budget_data(years: int = 3) -> dict:
    """A balanced budget: 100 000 € of costs a year, 60 000 € requested, 40 000 € co-funded."""
    data = {}
    for index in range(years):
        data[f"expense_staff_{index}"] = "70000"
        data[f"expense_premises_{index}"] = "30000"
        data[f"cofunding_region_{index}"] = "40000"
        data[f"requested_{index}"] = "60000"
    return data


def complete_dossier(call=None, consortium=None, *, by=None):
    """A dossier that can be submitted: every section valid, composition and attachments in order."""
    from django.core.files.base import ContentFile

    from applications.models import Attachment, DossierSection

    dossier = DossierFactory(**{k: v for k, v in {"call": call, "consortium": consortium}.items() if v})
    OrganisationFactory(consortium=dossier.consortium, is_lead=True)
    OrganisationFactory(
        consortium=dossier.consortium, name="Biocoop du canal", kind=OrganisationKind.COMMERCIAL, legal_form="SARL"
    )
    for key, data in {**SECTION_DATA, "budget": budget_data(dossier.call.funding_years)}.items():
        DossierSection.objects.create(dossier=dossier, key=key, data=data, version=1)
    user = by or dossier.consortium.created_by
    for attachment_type in dossier.call.attachment_types.filter(required=True):
        attachment = Attachment(
            dossier=dossier,
            type=attachment_type,
            original_name=f"{attachment_type.code}.pdf",
            content_type="application/pdf",
            size=len(PDF_BYTES),
            sha256=hashlib.sha256(PDF_BYTES).hexdigest(),
            uploaded_by=user,
        )
        attachment.file.save(f"{attachment_type.code}.pdf", ContentFile(PDF_BYTES), save=False)
        attachment.save()
    return dossier
