"""Demo content: the 2013 call as published, an open call shaped like it, and Cité Phares."""

import datetime as dt

from django.utils import timezone

from applications import consortia, services
from applications.calls import ensure_ptce_2013, ensure_ptce_call
from applications.clock import local_instant
from applications.models import Consortium, Maturity, OrganisationKind, Region, Sector, TerritoryPriority
from applications.sirets import luhn_ok
from reviews.criteria import ensure_ptce_criteria


def demo_siret(seed: str) -> str:
    """A fictitious SIRET that passes the Luhn check (real ones are not used in demo data)."""
    base = (seed * 13)[:13]
    return next(base + digit for digit in "0123456789" if luhn_ok(base + digit))


def next_deadline(today: dt.date) -> dt.datetime:
    """The next "30 October" deadline: accepted until 31 October 00:00 in Paris."""
    year = today.year if today < dt.date(today.year, 10, 31) else today.year + 1
    return local_instant(dt.datetime(year, 10, 31))


def load_calls():
    call_2013, _ = ensure_ptce_2013()
    today = timezone.localdate()
    closes = next_deadline(today)
    open_call, _ = ensure_ptce_call(
        slug="ptce-demo",
        title=f"Appel à projets PTCE {closes.year} (démonstration)",
        reference_prefix=f"PTCE-{closes.year}",
        opens_at=local_instant(dt.datetime(closes.year - 1, 11, 1)),
        closes_at=closes,
        first_funding_year=closes.year + 1,
    )
    ensure_ptce_criteria(call_2013)
    ensure_ptce_criteria(open_call)
    return call_2013, open_call


def load_cite_phares(owner, call):
    """The seed's example pole, with a dossier half written so the journey can be tried."""
    consortium = Consortium.objects.filter(name="Cité Phares", memberships__user=owner).first()
    if consortium is not None:
        return consortium
    consortium = consortia.create_consortium(
        by=owner,
        name="Cité Phares",
        communes="L'Île-Saint-Denis",
        departement="93",
        region=Region.ILE_DE_FRANCE,
        territory_priority=TerritoryPriority.URBAN_PRIORITY_DISTRICT,
        maturity=Maturity.MATURE,
        sectors=[Sector.INSERTION, Sector.POPULAR_EDUCATION, Sector.SUSTAINABLE_CONSUMPTION, Sector.ORGANIC_FARMING],
    )
    members = [
        ("Association Halage", "Association loi 1901", OrganisationKind.ESS_ASSOCIATION, True, "halage"),
        ("Coopérative Les Jardins du Canal", "SCIC SA", OrganisationKind.ESS_COOPERATIVE, False, "jardins"),
        ("Épicerie Bio du Quai", "SARL", OrganisationKind.COMMERCIAL, False, "epicerie"),
    ]
    for index, (name, legal_form, kind, is_lead, domain) in enumerate(members, start=1):
        consortia.save_organisation(
            consortium,
            by=owner,
            name=name,
            siret=demo_siret(f"{index}4{index}7"),
            legal_form=legal_form,
            kind=kind,
            address="Quai du Châtelier",
            postcode="93450",
            commune="L'Île-Saint-Denis",
            email_domain=f"{domain}.example",
            is_lead=is_lead,
        )
    dossier = services.start_dossier(consortium, call, by=owner)
    services.save_section(
        dossier,
        "resume",
        {
            "project_title": "Cité Phares : une usine réhabilitée au service de l'insertion",
            "summary": (
                "Créé en 2000 à l'initiative de l'association Halage dans une usine désaffectée, le pôle réunit "
                "dix structures de l'économie sociale et solidaire et une entreprise traditionnelle : une "
                "cinquantaine de salariés permanents, 200 salariés en insertion et une centaine de bénévoles."
            ),
            "objectives": "Mutualiser les locaux et les fonctions support, développer l'insertion et les circuits courts.",
        },
        base_version=0,
        by=owner,
    )
    return consortium
