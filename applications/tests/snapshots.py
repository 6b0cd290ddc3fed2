"""A realistic submission snapshot (the seed's Cité Phares pole) and a Submission row built from it."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
from zoneinfo import ZoneInfo

from applications.models import Dossier, Submission

from .factories import DossierFactory

PARIS = ZoneInfo("Europe/Paris")
# One second before the 2013 deadline (31 October 2013 00:00, Paris time, CET).
SUBMITTED_AT = dt.datetime(2013, 10, 30, 23, 59, 59, tzinfo=PARIS)
HOSTILE_TEXT = "<script>alert(1)</script><img src='file:///etc/passwd'>"

_YEARS = [2014, 2015, 2016]


def _line(code: str, label: str, amounts: list[int]) -> dict:
    return {"code": code, "label": label, "amounts": amounts, "total": sum(amounts)}


def _budget() -> dict:
    expenses = [
        _line("staff", "Frais de personnel", [98_000, 104_500, 110_000]),
        _line("premises", "Locaux et charges", [24_000, 24_000, 25_200]),
        _line("equipment", "Équipement et investissement", [35_000, 12_000, 8_000]),
        _line("services", "Prestations et sous-traitance", [9_500, 11_000, 11_000]),
        _line("travel", "Déplacements et communication", [4_000, 4_500, 4_800]),
        _line("other", "Autres dépenses", [1_500, 1_500, 1_500]),
    ]
    cofunding = [
        _line("region", "Conseil régional", [30_000, 30_000, 30_000]),
        _line("departement", "Conseil départemental", [15_000, 15_000, 15_000]),
        _line("municipal", "Communes et intercommunalités", [10_000, 10_000, 12_000]),
        _line("europe", "Fonds européens (FSE, FEDER)", [20_000, 25_000, 25_000]),
        _line("private", "Fondations et mécénat", [8_000, 8_000, 8_000]),
        _line("own", "Fonds propres et recettes", [14_000, 19_500, 25_500]),
    ]
    requested = [75_000, 50_000, 45_000]
    costs = [sum(line["amounts"][i] for line in expenses) for i in range(len(_YEARS))]
    resources = [requested[i] + sum(line["amounts"][i] for line in cofunding) for i in range(len(_YEARS))]
    assert costs == resources, "the demo budget must balance every year"
    return {
        "years": list(_YEARS),
        "expenses": expenses,
        "cofunding": cofunding,
        "requested": {"amounts": requested, "total": sum(requested)},
        "totals": {
            "costs": costs,
            "costs_total": sum(costs),
            "resources": resources,
            "resources_total": sum(resources),
        },
    }


_CONTENT = {
    "schema": 1,
    "call": {
        "title": "Appel à projets « Pôles territoriaux de coopération économique » 2013",
        "slug": "ptce-2013",
        "reference_prefix": "PTCE-2013",
        "closes_at": "2013-10-31T00:00:00+01:00",
        "funding_years": list(_YEARS),
    },
    "consortium": {
        "name": "Cité Phares",
        "communes": "L'Île-Saint-Denis, Saint-Denis, Villeneuve-la-Garenne",
        "departement": "93",
        "region": "IDF",
        "region_label": "Île-de-France",
        "territory_priority": "qpv",
        "territory_priority_label": "Quartier prioritaire (quartier populaire)",
        "maturity": "mature",
        "maturity_label": "Mature",
        "sectors": ["insertion", "popular_education", "sustainable_consumption", "organic_farming"],
        "sector_labels": [
            "Insertion par l'activité économique",
            "Éducation populaire",
            "Consommation durable",
            "Agriculture biologique et circuits courts",
        ],
    },
    "organisations": [
        {
            "name": "Association Halage",
            "siret": "39187426500034",
            "legal_form": "Association loi 1901",
            "kind": "ess_association",
            "kind_label": "Association (ESS)",
            "address": "1 quai de la Marine",
            "postcode": "93450",
            "commune": "L'Île-Saint-Denis",
            "email_domain": "halage.fr",
            "is_lead": True,
        },
        {
            "name": "Les Jardins de la Marine SCIC",
            "siret": "51234567800017",
            "legal_form": "SCIC SAS",
            "kind": "ess_cooperative",
            "kind_label": "Coopérative (ESS)",
            "address": "3 rue Méchin",
            "postcode": "93450",
            "commune": "L'Île-Saint-Denis",
            "email_domain": "jardins-marine.fr",
            "is_lead": False,
        },
        {
            "name": "Bœuf & Cœur Traiteur SARL",
            "siret": "80012345600021",
            "legal_form": "SARL",
            "kind": "commercial",
            "kind_label": "Entreprise commerciale",
            "address": "12 avenue Jean-Jaurès",
            "postcode": "93200",
            "commune": "Saint-Denis",
            "email_domain": "boeufetcoeur.fr",
            "is_lead": False,
        },
    ],
    "team": [
        {"email": "direction@halage.fr", "name": "Claire Dupont", "role": "owner", "role_label": "Propriétaire"},
        {"email": "projets@halage.fr", "name": "Mehdi Benali", "role": "editor", "role_label": "Rédacteur"},
    ],
    "sections": [
        {
            "key": "resume",
            "title": "Présentation du projet",
            "fields": [
                {"name": "project_title", "label": "Intitulé du projet", "value": "La Fabrique des communs de l'Île"},
                {
                    "name": "summary",
                    "label": "Résumé du projet",
                    "value": (
                        "Créé en 2000 par l'association Halage dans une usine désaffectée, le pôle réunit "
                        "10 structures de l'ESS et 1 entreprise classique : environ 50 salariés permanents, "
                        "200 salariés en insertion et une centaine de bénévoles.\n"
                        "Le projet « Fabrique des communs » mutualise un atelier, une légumerie et un "
                        "service administratif partagé — pour un cœur de quartier vivant."
                    ),
                },
                {
                    "name": "objectives",
                    "label": "Objectifs sur les trois années",
                    "value": (
                        "1. Ouvrir la légumerie bio (2014).\n"
                        "2. Créer 12 emplois non délocalisables.\n"
                        "3. Former 40 salariés en insertion par an."
                    ),
                },
            ],
        },
        {
            "key": "mutualisation",
            "title": "Mutualisation",
            "fields": [
                {
                    "name": "premises",
                    "label": "Locaux mutualisés",
                    "value": "1 800 m² de l'ancienne usine : ateliers, bureaux partagés, salle de formation.",
                },
                {
                    "name": "services",
                    "label": "Services mutualisés",
                    "value": "Comptabilité, paie, accueil et communication pour les onze membres.",
                },
                {"name": "skills", "label": "Compétences et emplois mutualisés", "value": "Un chargé de sécurité."},
            ],
        },
        {
            "key": "innovation-sociale",
            "title": "Innovation sociale",
            "fields": [
                {
                    "name": "description",
                    "label": "En quoi le projet est-il socialement innovant ?",
                    # Typed by an applicant: must appear as text in the PDF, never as markup.
                    "value": f"Nous testons l'éditeur : {HOSTILE_TEXT}\nFin du test.",
                },
                {
                    "name": "beneficiaries",
                    "label": "Publics et besoins sociaux visés",
                    "value": "Habitants des quartiers populaires, jeunes sans qualification, familles.",
                },
            ],
        },
        {
            "key": "emplois",
            "title": "Emplois",
            "fields": [
                {"name": "existing_jobs", "label": "Emplois existants (ETP)", "value": "250"},
                {"name": "existing_integration_jobs", "label": "Dont emplois en insertion (ETP)", "value": "200"},
                {"name": "planned_jobs", "label": "Emplois créés d'ici trois ans (ETP)", "value": "12"},
                {"name": "volunteers", "label": "Bénévoles", "value": "100"},
            ],
        },
        {
            "key": "gouvernance",
            "title": "Gouvernance",
            "fields": [
                {
                    "name": "description",
                    "label": "Organisation de la gouvernance du pôle",
                    "value": "Un comité de pilotage mensuel ; chaque membre dispose d'une voix.",
                },
            ],
        },
    ],
    "budget": _budget(),
    "attachments": [
        {
            "type_code": "statuts",
            "type_label": "Statuts de la structure porteuse",
            "name": "Statuts Halage 2012.pdf",
            "content_type": "application/pdf",
            "size": 284_513,
            "sha256": "3b7e1c0f9a5d2e8b4c6a1f0e9d8c7b6a5f4e3d2c1b0a99887766554433221100",
        },
        {
            "type_code": "budget",
            "type_label": "Budget prévisionnel",
            "name": "Budget prévisionnel 2014-2016 (œuvre commune).xlsx",
            "content_type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "size": 1_834_221,
            "sha256": "aa55aa55aa55aa55aa55aa55aa55aa55aa55aa55aa55aa55aa55aa55aa55aa55",
        },
    ],
    "sworn_statement": {"accepted": True, "by": "direction@halage.fr", "at": "2013-10-30T23:58:12+01:00"},
}


def build_snapshot_content(**overrides) -> dict:
    """A fresh copy of the Cité Phares snapshot; keyword arguments replace top-level keys."""
    content = copy.deepcopy(_CONTENT)
    content.update(copy.deepcopy(overrides))
    return content


def canonical_sha256(content: dict) -> str:
    """SHA-256 of the canonical JSON, as the submit service computes it."""
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    return hashlib.sha256(canonical).hexdigest()


def create_submission(dossier: Dossier | None = None, **kw) -> Submission:
    """A submitted version of `dossier` (a new DossierFactory one by default) with the snapshot above."""
    dossier = dossier or DossierFactory()
    version = kw.pop("version", 1)
    content = kw.pop("content", None) or build_snapshot_content()
    reference = f"{dossier.call.reference_prefix}-{dossier.pk:04d}"
    fields = {
        "dossier": dossier,
        "version": version,
        "reference": reference if version == 1 else f"{reference}-V{version}",
        "submitted_at": SUBMITTED_AT,
        "submitted_by": dossier.consortium.created_by,
        "content": content,
        "content_sha256": canonical_sha256(content),
    }
    fields.update(kw)
    return Submission.objects.create(**fields)
