"""The calls the portal knows how to create, as data (PRODUCT.md: the 2013 PTCE call)."""

import datetime as dt

from django.db import transaction

from .clock import local_instant
from .models import AttachmentType, Call

PTCE_ATTACHMENT_TYPES = [
    ("statuts", "Statuts de la structure porteuse", "Statuts à jour, signés.", True),
    ("budget", "Budget prévisionnel détaillé", "Sur les trois années du projet.", True),
    (
        "engagements",
        "Lettres d'engagement des partenaires",
        "Une lettre par organisation membre, réunies en un fichier.",
        True,
    ),
    ("comptes", "Derniers comptes approuvés", "Bilan et compte de résultat du dernier exercice clos.", True),
]

PTCE_DESCRIPTION = (
    "Appel à projets pour encourager le développement des pôles territoriaux de coopération économique : "
    "des regroupements, sur un même territoire, d'entreprises de l'économie sociale et solidaire associées à des "
    "entreprises commerciales, des collectivités locales, des centres de recherche et des organismes de formation, "
    "qui mettent en commun locaux, services et compétences.\n\n"
    "Sont attendus des projets collectifs de mutualisation et d'innovation sociale, déjà matures ou émergents, "
    "en priorité dans les territoires en difficulté : quartiers populaires, bassins désindustrialisés, zones "
    "rurales en déclin. Les projets sont appréciés au regard de l'innovation socio-économique sur le territoire, "
    "de la conversion écologique et sociale de l'économie locale, de la création d'emplois non délocalisables "
    "dans une perspective de développement durable et de la coopération entre acteurs.\n\n"
    "Une vingtaine de pôles seront soutenus sur trois ans, pour une enveloppe totale de 3 millions d'euros."
)


@transaction.atomic
def ensure_ptce_call(
    *,
    slug: str,
    title: str,
    reference_prefix: str,
    opens_at: dt.datetime,
    closes_at: dt.datetime,
    first_funding_year: int,
) -> tuple[Call, bool]:
    """Create the call with the PTCE rules, or leave an existing one untouched."""
    call, created = Call.objects.get_or_create(
        slug=slug,
        defaults={
            "title": title,
            "reference_prefix": reference_prefix,
            "description": PTCE_DESCRIPTION,
            "opens_at": opens_at,
            "closes_at": closes_at,
            "envelope": 3_000_000,
            "target_laureates": 20,
            "funding_years": 3,
            "first_funding_year": first_funding_year,
            "min_ess_members": 1,
            "min_other_members": 1,
        },
    )
    if created:
        for position, (code, label, help_text, required) in enumerate(PTCE_ATTACHMENT_TYPES):
            AttachmentType.objects.create(
                call=call, code=code, label=label, help_text=help_text, required=required, position=position
            )
    return call, created


def ensure_ptce_2013() -> tuple[Call, bool]:
    # "remis au plus tard le 30 octobre 2013": accepted while Paris time is before 31 Oct 00:00
    # (CET, +01:00: summer time ended on 27 October 2013).
    return ensure_ptce_call(
        slug="ptce-2013",
        title="Appel à projets PTCE 2013",
        reference_prefix="PTCE-2013",
        opens_at=local_instant(dt.datetime(2013, 7, 15, 0, 0)),
        closes_at=local_instant(dt.datetime(2013, 10, 31, 0, 0)),
        first_funding_year=2014,
    )
