"""The PTCE review grid, from the call's aims (seed text): data for `load_ptce_2013` and the demo."""

from applications.models import Call

from .models import Criterion

PTCE_CRITERIA = [
    (
        "Innovation socio-économique sur le territoire",
        "Réponses nouvelles à des besoins sociaux du territoire, portées collectivement.",
        3,
        None,
    ),
    (
        "Conversion écologique et sociale de l'économie locale",
        "Contribution à la transition écologique : réemploi, circuits courts, énergie, sobriété.",
        2,
        None,
    ),
    (
        "Emplois non délocalisables",
        "Création et consolidation d'emplois durables attachés au territoire, insertion comprise.",
        2,
        1,
    ),
    (
        "Coopération et mutualisation",
        "Profondeur de la coopération entre structures de l'ESS, entreprises, collectivités, recherche et "
        "formation ; locaux, services et compétences réellement mis en commun.",
        3,
        1,
    ),
    (
        "Priorité et ancrage territorial",
        "Territoire en difficulté (quartier populaire, bassin désindustrialisé, zone rurale en déclin) et "
        "ancrage local du pôle. Sans objet pour un territoire hors priorité.",
        1,
        None,
    ),
    (
        "Maturité et faisabilité",
        "Gouvernance, solidité du budget et des cofinancements, capacité à conduire le projet sur trois ans.",
        2,
        None,
    ),
]


def ensure_ptce_criteria(call: Call) -> int:
    """Create the PTCE criteria for a call that has none yet; returns how many were created."""
    if call.criteria.exists():
        return 0
    Criterion.objects.bulk_create(
        [
            Criterion(
                call=call,
                name=name,
                guidance=guidance,
                weight=weight,
                scale_max=5,
                eliminatory_below=threshold,
                allows_not_applicable=name.startswith("Priorité"),
                position=position,
            )
            for position, (name, guidance, weight, threshold) in enumerate(PTCE_CRITERIA)
        ]
    )
    return len(PTCE_CRITERIA)
