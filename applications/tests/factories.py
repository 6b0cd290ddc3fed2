import datetime as dt

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
