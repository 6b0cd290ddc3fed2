"""A realistic, reproducible dataset for a call: applicants, poles, submitted dossiers, reviewers,
assignments and reviews. Used by `manage.py generate_dataset` (benchmarks) and by the demo.

Shaped on what really happened in 2013 (PRODUCT.md): poles of 2 to 8 organisations led by an ESS
structure, mostly in territories in difficulty, asking between 72 k€ and 290 k€ over three years
(most around 120 k€), submitted in a deadline rush.

Reproducible: every random draw comes from `random.Random` instances seeded from `seed` (never the
global generator), one per dossier and one per reviewer, so the same seed on an empty database
gives the same snapshot contents (ids and timestamps of generation may differ).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import random
import time
import uuid
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal

from allauth.account.models import EmailAddress
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.text import slugify
from simple_history.utils import bulk_create_with_history

from accounts.models import User
from accounts.roles import Role, add_role
from applications.models import (
    Attachment,
    Call,
    Consortium,
    Dossier,
    DossierEvent,
    DossierSection,
    Maturity,
    Membership,
    Organisation,
    OrganisationKind,
    Region,
    Sector,
    Submission,
    TerritoryPriority,
)
from applications.sections import COFUNDING_SOURCES, EXPENSE_CATEGORIES, SECTION_FORMS, section_state
from applications.services import build_snapshot, content_hash
from applications.sirets import LA_POSTE_SIREN, luhn_ok
from demo.pdfbytes import assemble_pdf
from jobs.services import enqueue
from reviews.calibration import weighted_total
from reviews.criteria import ensure_ptce_criteria
from reviews.models import Assignment, Conflict, Criterion, Review, ReviewerProfile, Score
from reviews.services import auto_assign

REQUESTED_MIN, REQUESTED_MAX = 72_000, 290_000

# --- Reference data (fictitious people and structures, real places) ---

# (commune, postcode, département, région, typical situation, neighbouring communes)
QPV, INDUSTRY, RURAL, CITY = (
    TerritoryPriority.URBAN_PRIORITY_DISTRICT,
    TerritoryPriority.DEINDUSTRIALISED_BASIN,
    TerritoryPriority.DECLINING_RURAL_AREA,
    TerritoryPriority.NONE,
)
PLACES = [
    ("L'Île-Saint-Denis", "93450", "93", Region.ILE_DE_FRANCE, QPV, "Saint-Denis, Villeneuve-la-Garenne"),
    ("Montreuil", "93100", "93", Region.ILE_DE_FRANCE, QPV, "Bagnolet, Romainville"),
    ("Clichy-sous-Bois", "93390", "93", Region.ILE_DE_FRANCE, QPV, "Montfermeil"),
    ("Grigny", "91350", "91", Region.ILE_DE_FRANCE, QPV, "Viry-Châtillon"),
    ("Mantes-la-Jolie", "78200", "78", Region.ILE_DE_FRANCE, QPV, "Mantes-la-Ville, Limay"),
    ("Roubaix", "59100", "59", Region.HAUTS_DE_FRANCE, QPV, "Tourcoing, Wattrelos"),
    ("Lens", "62300", "62", Region.HAUTS_DE_FRANCE, INDUSTRY, "Liévin, Avion"),
    ("Maubeuge", "59600", "59", Region.HAUTS_DE_FRANCE, INDUSTRY, "Hautmont, Jeumont"),
    ("Amiens", "80000", "80", Region.HAUTS_DE_FRANCE, QPV, ""),
    ("Saint-Quentin", "02100", "02", Region.HAUTS_DE_FRANCE, INDUSTRY, ""),
    ("Mulhouse", "68100", "68", Region.GRAND_EST, QPV, "Illzach, Wittenheim"),
    ("Longwy", "54400", "54", Region.GRAND_EST, INDUSTRY, "Mont-Saint-Martin"),
    ("Forbach", "57600", "57", Region.GRAND_EST, INDUSTRY, "Stiring-Wendel"),
    ("Charleville-Mézières", "08000", "08", Region.GRAND_EST, INDUSTRY, ""),
    ("Le Havre", "76600", "76", Region.NORMANDIE, INDUSTRY, "Harfleur, Gonfreville-l'Orcher"),
    ("Elbeuf", "76500", "76", Region.NORMANDIE, INDUSTRY, "Caudebec-lès-Elbeuf"),
    ("Alençon", "61000", "61", Region.NORMANDIE, RURAL, ""),
    ("Rennes", "35000", "35", Region.BRETAGNE, CITY, "Cesson-Sévigné"),
    ("Lorient", "56100", "56", Region.BRETAGNE, INDUSTRY, "Lanester"),
    ("Carhaix-Plouguer", "29270", "29", Region.BRETAGNE, RURAL, "Poullaouen"),
    ("Saint-Nazaire", "44600", "44", Region.PAYS_DE_LA_LOIRE, INDUSTRY, "Trignac"),
    ("Nantes", "44000", "44", Region.PAYS_DE_LA_LOIRE, QPV, "Rezé, Saint-Herblain"),
    ("Mayenne", "53100", "53", Region.PAYS_DE_LA_LOIRE, RURAL, ""),
    ("Vierzon", "18100", "18", Region.CENTRE_VAL_DE_LOIRE, INDUSTRY, ""),
    ("Tours", "37000", "37", Region.CENTRE_VAL_DE_LOIRE, CITY, "Joué-lès-Tours"),
    ("Châteauroux", "36000", "36", Region.CENTRE_VAL_DE_LOIRE, RURAL, "Déols"),
    ("Le Creusot", "71200", "71", Region.BOURGOGNE_FRANCHE_COMTE, INDUSTRY, "Montceau-les-Mines"),
    ("Montbéliard", "25200", "25", Region.BOURGOGNE_FRANCHE_COMTE, INDUSTRY, "Audincourt"),
    ("Nevers", "58000", "58", Region.BOURGOGNE_FRANCHE_COMTE, RURAL, ""),
    ("Saint-Étienne", "42000", "42", Region.AUVERGNE_RHONE_ALPES, INDUSTRY, "Firminy, Saint-Chamond"),
    ("Villeurbanne", "69100", "69", Region.AUVERGNE_RHONE_ALPES, QPV, "Vaulx-en-Velin"),
    ("Grenoble", "38000", "38", Region.AUVERGNE_RHONE_ALPES, CITY, "Échirolles"),
    ("Die", "26150", "26", Region.AUVERGNE_RHONE_ALPES, RURAL, ""),
    ("Thiers", "63300", "63", Region.AUVERGNE_RHONE_ALPES, RURAL, ""),
    ("Limoges", "87000", "87", Region.NOUVELLE_AQUITAINE, CITY, ""),
    ("Guéret", "23000", "23", Region.NOUVELLE_AQUITAINE, RURAL, ""),
    ("Bordeaux", "33000", "33", Region.NOUVELLE_AQUITAINE, QPV, "Lormont, Cenon"),
    ("Poitiers", "86000", "86", Region.NOUVELLE_AQUITAINE, CITY, ""),
    ("Toulouse", "31000", "31", Region.OCCITANIE, QPV, "Colomiers"),
    ("Decazeville", "12300", "12", Region.OCCITANIE, INDUSTRY, "Aubin"),
    ("Alès", "30100", "30", Region.OCCITANIE, INDUSTRY, "La Grand-Combe"),
    ("Figeac", "46100", "46", Region.OCCITANIE, RURAL, ""),
    ("Montpellier", "34000", "34", Region.OCCITANIE, CITY, ""),
    ("Marseille", "13003", "13", Region.PROVENCE_ALPES_COTE_D_AZUR, QPV, ""),
    ("La Seyne-sur-Mer", "83500", "83", Region.PROVENCE_ALPES_COTE_D_AZUR, INDUSTRY, ""),
    ("Briançon", "05100", "05", Region.PROVENCE_ALPES_COTE_D_AZUR, RURAL, ""),
    ("Ajaccio", "20000", "2A", Region.CORSE, CITY, ""),
    ("Bastia", "20200", "2B", Region.CORSE, CITY, ""),
    ("Pointe-à-Pitre", "97110", "971", Region.GUADELOUPE, QPV, "Les Abymes"),
    ("Fort-de-France", "97200", "972", Region.MARTINIQUE, QPV, ""),
    ("Le Port", "97420", "974", Region.LA_REUNION, QPV, "La Possession"),
    ("Cayenne", "97300", "973", Region.GUYANE, QPV, ""),
    ("Mamoudzou", "97600", "976", Region.MAYOTTE, QPV, ""),
]

PRIORITY_WEIGHTS = {QPV: 30, INDUSTRY: 22, RURAL: 23, CITY: 25}
MATURITY_WEIGHTS = {Maturity.MATURE: 55, Maturity.EMERGING: 45}
SECTOR_WEIGHTS = {
    Sector.INSERTION: 30,
    Sector.RECYCLING: 15,
    Sector.ORGANIC_FARMING: 14,
    Sector.SUSTAINABLE_CONSUMPTION: 10,
    Sector.POPULAR_EDUCATION: 8,
    Sector.RENEWABLE_ENERGY: 7,
    Sector.SERVICES_TO_PEOPLE: 7,
    Sector.EARLY_CHILDHOOD: 6,
    Sector.CULTURE: 6,
    Sector.HOUSING: 5,
    Sector.MOBILITY: 5,
    Sector.DIGITAL: 5,
    Sector.OTHER: 2,
}
SECTOR_COUNT_WEIGHTS = {1: 25, 2: 40, 3: 25, 4: 10}
ORGANISATION_COUNT_WEIGHTS = {2: 8, 3: 16, 4: 20, 5: 18, 6: 15, 7: 12, 8: 11}
LEAD_KIND_WEIGHTS = {
    OrganisationKind.ESS_ASSOCIATION: 55,
    OrganisationKind.ESS_COOPERATIVE: 25,
    OrganisationKind.ESUS_ENTERPRISE: 10,
    OrganisationKind.ESS_FOUNDATION: 6,
    OrganisationKind.ESS_MUTUAL: 4,
}
OTHER_KIND_WEIGHTS = {
    OrganisationKind.COMMERCIAL: 35,
    OrganisationKind.LOCAL_AUTHORITY: 30,
    OrganisationKind.TRAINING_BODY: 15,
    OrganisationKind.RESEARCH_CENTRE: 12,
    OrganisationKind.OTHER: 8,
}
MEMBER_KIND_WEIGHTS = {**LEAD_KIND_WEIGHTS, **{kind: weight // 2 for kind, weight in OTHER_KIND_WEIGHTS.items()}}

SECTOR_TEXT = {
    # sector: (activity, ecological contribution, publics, project theme)
    Sector.INSERTION: (
        "des chantiers d'insertion dans le bâtiment et les espaces verts",
        "des chantiers qui privilégient les matériaux de réemploi et la gestion différenciée des espaces verts",
        "demandeurs d'emploi de longue durée, allocataires du RSA, jeunes sans qualification",
        "des parcours d'insertion croisés",
    ),
    Sector.EARLY_CHILDHOOD: (
        "une crèche associative à horaires élargis pour les parents en formation",
        "une alimentation biologique et locale servie aux enfants accueillis",
        "familles monoparentales et parents en reprise d'emploi",
        "l'accueil des jeunes enfants, clé du retour à l'emploi",
    ),
    Sector.RENEWABLE_ENERGY: (
        "une société citoyenne de production d'énergie solaire sur les toits publics",
        "de l'électricité renouvelable produite et investie localement",
        "habitants actionnaires, ménages en précarité énergétique",
        "une énergie citoyenne et locale",
    ),
    Sector.RECYCLING: (
        "une ressourcerie qui collecte, répare et revend meubles, textiles et appareils",
        "plusieurs centaines de tonnes d'objets détournées chaque année de l'enfouissement",
        "salariés en insertion, ménages modestes qui s'équipent à petit prix",
        "une filière locale du réemploi",
    ),
    Sector.ORGANIC_FARMING: (
        "des jardins maraîchers biologiques et une légumerie qui livre la restauration collective",
        "des circuits courts qui réduisent les transports et soutiennent la conversion des fermes voisines",
        "maraîchers en insertion, cantines scolaires, familles des quartiers",
        "une alimentation biologique accessible à tous",
    ),
    Sector.POPULAR_EDUCATION: (
        "des ateliers d'éducation populaire et d'accompagnement à la scolarité",
        "des ateliers de sensibilisation à la sobriété et à la réparation",
        "jeunes des quartiers, parents, habitants éloignés des institutions",
        "l'éducation populaire au cœur du développement local",
    ),
    Sector.SUSTAINABLE_CONSUMPTION: (
        "une épicerie solidaire et un groupement d'achats de produits locaux",
        "des produits en vrac, locaux et de saison, et moins d'emballages",
        "ménages modestes, étudiants, personnes âgées isolées",
        "une consommation durable et solidaire",
    ),
    Sector.CULTURE: (
        "une friche culturelle qui accueille compagnies, résidences d'artistes et ateliers ouverts",
        "la réhabilitation sobre d'un bâtiment industriel plutôt qu'une construction neuve",
        "artistes, associations de quartier, publics éloignés de la culture",
        "la culture comme moteur de coopération",
    ),
    Sector.MOBILITY: (
        "un garage solidaire et une plateforme de mobilité pour les demandeurs d'emploi",
        "le covoiturage, le vélo et la réparation des véhicules plutôt que leur remplacement",
        "demandeurs d'emploi sans véhicule, jeunes en apprentissage",
        "une mobilité solidaire pour accéder à l'emploi",
    ),
    Sector.HOUSING: (
        "une coopérative d'éco-construction et d'auto-réhabilitation accompagnée",
        "la rénovation thermique de logements anciens avec des matériaux biosourcés",
        "propriétaires modestes, locataires en précarité énergétique",
        "un habitat sain et économe",
    ),
    Sector.SERVICES_TO_PEOPLE: (
        "des services d'aide à domicile et de portage de repas",
        "des tournées optimisées et des repas préparés avec des produits locaux",
        "personnes âgées, personnes en situation de handicap, aidants",
        "des services de proximité pour bien vieillir",
    ),
    Sector.DIGITAL: (
        "un tiers-lieu numérique avec atelier de fabrication et médiation numérique",
        "le reconditionnement de matériel informatique et la réparation",
        "publics éloignés du numérique, petites associations, artisans",
        "un numérique inclusif et sobre",
    ),
    Sector.OTHER: (
        "des services partagés aux petites entreprises et associations du territoire",
        "des achats groupés responsables et la mutualisation des équipements",
        "petites structures, créateurs d'activité, habitants",
        "des coopérations économiques de proximité",
    ),
}
PRIORITY_TEXT = {
    QPV: "Le pôle est implanté au cœur d'un quartier prioritaire {de_commune}, où le chômage atteint {rate} % et "
    "touche d'abord les jeunes et les familles monoparentales.",
    INDUSTRY: "Le bassin {de_commune} a perdu près de {lost} emplois industriels depuis {since} ; les savoir-faire "
    "ouvriers demeurent, mais les débouchés ont disparu et le chômage atteint {rate} %.",
    RURAL: "Le territoire rural autour {de_commune} perd des habitants et des services : moins de {density} "
    "habitants au kilomètre carré, des commerces qui ferment et des jeunes qui partent.",
    CITY: "Le territoire {de_commune} n'est pas classé prioritaire, mais plusieurs quartiers concentrent des "
    "difficultés sociales (chômage de {rate} %) que le pôle veut traiter.",
}
# fmt: off
BRANDS = [
    "Cité", "Ruche", "Fabrique", "Archipel", "Pépinière", "Maison", "Ferme", "Atelier", "Comptoir", "Passerelle",
    "Carrefour", "Quai", "Moulin", "Forge", "Halle", "Pôle",
]
COMPLEMENTS = [
    "des Possibles", "des Communs", "du Canal", "du Lien", "des Savoirs", "des Métiers", "des Énergies",
    "des Initiatives", "des Transitions", "des Solidarités", "des Coopérations", "du Réemploi", "des Territoires",
    "des Artisans", "de la Vallée", "des Phares", "des Bâtisseurs", "des Jardins",
]
WOMEN = [
    "Camille", "Claire", "Nadia", "Sophie", "Fatima", "Isabelle", "Aurélie", "Hélène", "Samira", "Julie", "Anne",
    "Léa", "Marion", "Nathalie", "Sandrine", "Yasmina", "Céline", "Élodie", "Martine", "Aïcha",
]
MEN = [
    "Julien", "Karim", "Nicolas", "Thomas", "Mehdi", "Pierre", "Olivier", "Laurent", "Antoine", "Sébastien",
    "Youssef", "François", "Jérôme", "Mathieu", "Bruno", "David", "Éric", "Franck", "Hugo", "Moussa",
]
LAST_NAMES = [
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau", "Simon",
    "Laurent", "Lefèvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier", "Morel", "Girard",
    "André", "Mercier", "Dupont", "Lambert", "Bonnet", "François", "Martinez", "Legrand", "Benali", "Haddad",
    "Nguyen", "Diallo", "Le Gall", "Kerbrat", "Rossi", "Lopez", "Faure", "Chevalier",
]
STREETS = [
    "rue de la République", "quai du Canal", "avenue Jean-Jaurès", "rue Victor-Hugo", "place de la Mairie",
    "rue de l'Usine", "boulevard Gambetta", "rue des Écoles", "allée des Tilleuls", "chemin des Vignes",
    "rue Jules-Ferry", "impasse des Ateliers",
]
# fmt: on
ORGANISATION_NAMES = {
    # kind: ([(name pattern, legal form)], ...); {place} is "de Lens", "du Havre"…
    OrganisationKind.ESS_ASSOCIATION: [
        ("Régie de quartier {place}", "Association loi 1901"),
        ("Ressourcerie {place}", "Association loi 1901"),
        ("Chantier d'insertion Les Jardins {place}", "Association loi 1901"),
        ("Association Passerelles {place}", "Association loi 1901"),
        ("Atelier vélo solidaire {place}", "Association loi 1901"),
        ("Crèche parentale Les Petits Pas", "Association loi 1901"),
        ("Maison des solidarités {place}", "Association loi 1901"),
        ("Association Trait d'Union", "Association loi 1901"),
        ("Épicerie solidaire {place}", "Association loi 1901"),
    ],
    OrganisationKind.ESS_COOPERATIVE: [
        ("SCIC Énergies citoyennes {place}", "SCIC SAS"),
        ("SCOP Bâtir ensemble", "SCOP SARL"),
        ("Coopérative d'activité et d'emploi {place}", "SCOP SA"),
        ("SCIC Les Paniers {place}", "SCIC SA"),
        ("Coopérative Terres partagées", "SCIC SARL"),
    ],
    OrganisationKind.ESS_MUTUAL: [("Mutuelle solidaire {place}", "Mutuelle (code de la mutualité)")],
    OrganisationKind.ESS_FOUNDATION: [
        ("Fondation pour l'emploi {place}", "Fondation reconnue d'utilité publique"),
        ("Fondation Solidarités locales", "Fondation abritée"),
    ],
    OrganisationKind.ESUS_ENTERPRISE: [
        ("Entreprise d'insertion Recyclerie {place}", "SAS agréée ESUS"),
        ("Entreprise adaptée Les Ateliers {place}", "SARL agréée ESUS"),
    ],
    OrganisationKind.COMMERCIAL: [
        ("Imprimerie {place}", "SARL"),
        ("Menuiserie Artisanale {place}", "SARL"),
        ("Transports {last}", "SAS"),
        ("Biomarché {place}", "SAS"),
        ("Bureau d'études {last} Conseil", "SARL"),
        ("Boulangerie {last}", "EURL"),
    ],
    OrganisationKind.LOCAL_AUTHORITY: [
        ("Commune {place}", "Commune"),
        ("Communauté d'agglomération {place}", "Communauté d'agglomération"),
        ("Communauté de communes du pays {place}", "Communauté de communes"),
    ],
    OrganisationKind.RESEARCH_CENTRE: [
        ("Laboratoire d'économie sociale {place}", "Établissement public (université)"),
        ("Institut de recherche sur les territoires", "Établissement public à caractère scientifique"),
    ],
    OrganisationKind.TRAINING_BODY: [
        ("Centre de formation {place}", "Association loi 1901"),
        ("Greta {place}", "Groupement d'établissements publics"),
    ],
    OrganisationKind.OTHER: [
        ("Maison de l'emploi {place}", "Groupement d'intérêt public"),
        ("Groupement d'employeurs {place}", "Association loi 1901"),
    ],
}
GOVERNANCE = [
    (
        "Une société coopérative d'intérêt collectif réunit les membres du pôle en collèges : salariés, "
        "structures de l'ESS, entreprises, collectivités et partenaires.",
        "Un membre, une voix au sein de chaque collège ; les collectivités pèsent au plus 20 % des voix.",
    ),
    (
        "Une association de préfiguration porte le pôle ; un comité de pilotage trimestriel réunit l'ensemble "
        "des membres et arrête le programme d'actions.",
        "Décisions au consensus en comité de pilotage ; la structure porteuse exécute et rend compte.",
    ),
    (
        "Une convention de coopération lie les membres ; la structure porteuse anime un comité stratégique "
        "et des groupes de travail par activité.",
        "Chaque membre siège au comité stratégique ; les entreprises et la collectivité y ont voix consultative.",
    ),
]
SIGNATORY_ROLES = {"F": ["Présidente", "Directrice", "Co-présidente", "Gérante"], "M": ["Président", "Directeur"]}
REVIEWER_DOMAIN = "evaluation-ptce.example"
APPLICANT_DOMAIN = "example"

# The scoring model: a dossier's latent merit, a reviewer's leniency and noise, in points of 0-5.
BASE_SCORE, MERIT_WEIGHT, CRITERION_SPREAD, LENIENCY_SPREAD, NOISE = 2.9, 0.85, 0.45, 0.45, 0.55


def of_place(name: str) -> str:
    """ "de Lens", "du Havre", "d'Alès": the place name after "de", as French writes it."""
    if name.startswith("Le "):
        return "du " + name[3:]
    if name.startswith("Les "):
        return "des " + name[4:]
    if name[0] in "AEIOUÉÈÎ" and not name.startswith("L'"):
        return "d'" + name
    return "de " + name


def at_place(name: str) -> str:
    """ "à Lens", "au Havre"."""
    if name.startswith("Le "):
        return "au " + name[3:]
    if name.startswith("Les "):
        return "aux " + name[4:]
    return "à " + name


def sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + "."


def thousands(number: int) -> str:
    return f"{number:,}".replace(",", "\u202f")


def random_siret(rng: random.Random) -> str:
    """A fictitious SIRET: a SIREN that passes the Luhn check, then an establishment number (NIC)
    whose last digit makes the whole 14 digits pass it too (applications.sirets)."""
    while True:
        siren_base = f"{rng.randrange(10**7, 10**8)}"
        siren = next(siren_base + d for d in "0123456789" if luhn_ok(siren_base + d))
        base = f"{siren}{rng.randrange(1, 100):04d}"
        siret = next(base + d for d in "0123456789" if luhn_ok(base + d))
        if not siret.startswith(LA_POSTE_SIREN):
            return siret


def minimal_pdf(text: str) -> bytes:
    """A one-page PDF of a few hundred bytes, with a correct cross-reference table."""
    ascii_text = text.encode("ascii", "replace").decode().replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    stream = f"BT /F1 12 Tf 72 770 Td ({ascii_text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    return assemble_pdf(objects)


def _weighted(rng: random.Random, weights: Mapping) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _sample_weighted(rng: random.Random, weights: Mapping, count: int) -> list:
    pool = dict(weights)
    chosen = []
    for _ in range(min(count, len(pool))):
        item = _weighted(rng, pool)
        chosen.append(item)
        del pool[item]
    return chosen


def _split(rng: random.Random, total: int, shares: list[float], step: int = 100) -> list[int]:
    """`total` split in parts proportional to `shares`, rounded to `step`; exact sum."""
    weight = sum(shares)
    parts = [int(total * share / weight) // step * step for share in shares]
    parts[0] += total - sum(parts)
    return parts


def requested_total(rng: random.Random, merit: float = 0.0) -> int:
    """The grant asked over three years: log-normal around 125 k€, within 72-290 k€, by 500 €.
    Stronger poles (higher merit: older, larger) tend to ask more, as in the real call, so the
    best-ranked dossiers use up the envelope and ranking order alone is not the best selection."""
    while True:
        amount = round(rng.lognormvariate(math.log(125_000) + 0.25 * merit, 0.3) / 500) * 500
        if REQUESTED_MIN <= amount <= REQUESTED_MAX:
            return amount


# --- Plans: what one dossier will contain, drawn before anything is written ---


@dataclass
class Person:
    first_name: str
    last_name: str
    gender: str
    email: str

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass
class DossierPlan:
    index: int
    consortium: dict
    organisations: list[dict]
    owner: Person
    editor: Person | None
    sections: dict[str, dict]
    merit: float
    submitted_at: dt.datetime
    uuid_seed: str
    submitter_is_editor: bool


def _person(rng: random.Random, email_local: str, domain: str) -> Person:
    gender = rng.choice("FM")
    first = rng.choice(WOMEN if gender == "F" else MEN)
    last = rng.choice(LAST_NAMES)
    local = f"{slugify(first)}.{slugify(last)}.{email_local}"
    return Person(first, last, gender, f"{local}@{domain}")


def _organisation(rng: random.Random, kind: str, place: tuple, taken: set[str], sirets: set[str]) -> dict:
    commune, postcode, *_rest = place
    for _attempt in range(20):
        pattern, legal_form = rng.choice(ORGANISATION_NAMES[kind])
        name = pattern.format(place=of_place(commune), last=rng.choice(LAST_NAMES))
        if name not in taken:
            break
    else:
        name = f"{name} ({len(taken) + 1})"
    taken.add(name)
    siret = random_siret(rng)
    while siret in sirets:
        siret = random_siret(rng)
    sirets.add(siret)
    return {
        "name": name,
        "siret": siret,
        "legal_form": legal_form,
        "kind": kind,
        "address": f"{rng.randint(1, 120)} {rng.choice(STREETS)}",
        "postcode": postcode,
        "commune": commune,
        "email_domain": f"{slugify(name)[:40].strip('-')}.{APPLICANT_DOMAIN}",
        "is_lead": False,
    }


def _budget(rng: random.Random, years: int, merit: float) -> dict[str, str]:
    """A balanced budget: each year, expenses = grant requested + co-funding, amounts as typed."""
    requested = _split(rng, requested_total(rng, merit), [rng.uniform(0.8, 1.2) for _ in range(years)], step=500)
    data = {}
    for index, grant in enumerate(requested):
        share = rng.uniform(0.25, 0.5)  # the State's grant is a part of the project's budget
        costs = round(grant / share / 100) * 100
        expense_shares = [rng.uniform(0.45, 0.65), rng.uniform(0.05, 0.2)] + [
            rng.uniform(0, 0.12) for _ in EXPENSE_CATEGORIES[2:]
        ]
        for (code, _label), amount in zip(EXPENSE_CATEGORIES, _split(rng, costs, expense_shares), strict=True):
            data[f"expense_{code}_{index}"] = str(amount) if amount else ""
        sources = _sample_weighted(
            rng,
            {"region": 9, "departement": 6, "municipal": 7, "europe": 5, "private": 4, "own": 8, "state_other": 3},
            rng.randint(2, 5),
        )
        cofunding = dict(
            zip(sources, _split(rng, costs - grant, [rng.uniform(0.5, 1.5) for _ in sources]), strict=True)
        )
        for code, _label in COFUNDING_SOURCES:
            amount = cofunding.get(code, 0)
            data[f"cofunding_{code}_{index}"] = str(amount) if amount else ""
        data[f"requested_{index}"] = str(grant)
    return data


def _sections(
    rng: random.Random, call: Call, consortium: dict, organisations: list[dict], owner: Person, merit: float
) -> dict:
    name, commune = consortium["name"], consortium["communes"].split(",")[0]
    de_commune = of_place(commune)
    sectors = consortium["sectors"]
    texts = [SECTOR_TEXT[sector] for sector in sectors]
    ess = [org for org in organisations if org["kind"] in OrganisationKind.ess_kinds()]
    others = [org for org in organisations if org["kind"] not in OrganisationKind.ess_kinds()]
    mature = consortium["maturity"] == Maturity.MATURE
    founded = rng.randint(1995, 2009) if mature else rng.randint(2010, 2013)
    existing = rng.randint(20, 200) if mature else rng.randint(2, 40)
    integration = round(existing * rng.uniform(0.3, 0.7 if Sector.INSERTION in sectors else 0.4))
    planned = rng.randint(3, 40)
    non_relocatable = round((existing + planned) * rng.uniform(0.5, 0.95))
    activities = " ; ".join(text[0] for text in texts)
    summary = (
        f"{name} rassemble {len(ess)} structure{'s' if len(ess) > 1 else ''} de l'économie sociale et solidaire "
        f"et {len(others)} partenaire{'s' if len(others) > 1 else ''} {de_commune} ({consortium['departement']}). "
        + (
            f"Créé en {founded}, le pôle emploie {existing} personnes, dont {integration} en insertion. "
            if mature
            else f"Né en {founded} de la rencontre de ses membres, le pôle structure une offre commune. "
        )
        + f"Il développe {activities}. "
        f"Le projet vise à mutualiser moyens et compétences pour créer {planned} emplois durables sur trois ans."
    )
    governance = rng.choice(GOVERNANCE)
    premises = rng.random() < 0.8
    services = rng.random() < 0.7 or not premises
    partners = ", ".join(org["name"] for org in others) or "la commune et les entreprises voisines"
    priority_text = PRIORITY_TEXT[consortium["territory_priority"]].format(
        de_commune=de_commune,
        rate=rng.randint(12, 32),
        lost=rng.randrange(1_000, 12_000, 100),
        since=rng.choice([1980, 1985, 1990, 1995, 2000]),
        density=rng.choice([15, 20, 25, 30]),
    )
    return {
        "resume": {
            "project_title": f"{name} : {texts[0][3]}"[:200],
            "summary": summary[:2000],
            "objectives": (
                f"Année 1 : mettre en commun {'les locaux et ' if premises else ''}les fonctions support. "
                f"Année 2 : développer {texts[0][0]}. "
                f"Année 3 : consolider {planned} emplois créés et ouvrir le pôle à de nouveaux membres."
            ),
        },
        "mutualisation": {
            "premises": f"Un bâtiment de {thousands(rng.randrange(300, 5_000, 50))} m² partagé par {len(organisations)} "
            "structures : bureaux, ateliers, salle de réunion et espace d'accueil."
            if premises
            else "",
            "services": "Comptabilité, paie, accueil et communication assurés par un groupement d'employeurs commun."
            if services
            else "",
            "skills": "Des postes partagés (chargé de mission, encadrant technique) et une formation commune "
            "des encadrants."
            if rng.random() < 0.6
            else "",
        },
        "innovation-sociale": {
            "description": f"Le pôle croise les parcours entre ses membres : {texts[-1][0]}, avec un accompagnement "
            "commun vers l'emploi durable et des réponses construites avec les habitants.",
            "beneficiaries": sentence(" ; ".join(dict.fromkeys(text[2] for text in texts))),
        },
        "territoire": {
            "anchoring": f"Installé {at_place(commune)} depuis {founded}, le pôle travaille avec les acteurs "
            "locaux et les habitants du territoire.",
            "priority_justification": priority_text,
            "local_partners": partners[:5000],
        },
        "emplois": {
            "existing_jobs": str(existing),
            "existing_integration_jobs": str(integration),
            "planned_jobs": str(planned),
            "non_relocatable_jobs": str(non_relocatable),
            "volunteers": str(rng.randint(0, 150)),
            "description": "Emplois de service et de production attachés au territoire, dans une perspective "
            "de développement durable.",
        },
        "transition-ecologique": {"description": sentence(" ; ".join(text[1] for text in texts))},
        "gouvernance": {"description": governance[0], "decision_making": governance[1]},
        "budget": _budget(rng, call.funding_years, merit),
        "declaration": {
            "accepted": "on",
            "signatory_name": owner.full_name,
            "signatory_role": rng.choice(SIGNATORY_ROLES[owner.gender]),
        },
    }


def _submitted_at(rng: random.Random, call: Call, end: dt.datetime) -> dt.datetime:
    """The deadline rush: about half in the last day, most of them in the last hours."""
    draw = rng.random()
    if draw < 0.45:
        seconds = min(rng.expovariate(1 / (3 * 3600)), 24 * 3600)
    elif draw < 0.8:
        seconds = rng.uniform(1, 4) * 86400
    else:
        seconds = rng.uniform(4, 15) * 86400
    moment = end - dt.timedelta(seconds=max(int(seconds), 30))
    if moment <= call.opens_at:
        moment = call.opens_at + (end - call.opens_at) * rng.uniform(0.5, 0.99)
    return moment.replace(microsecond=0)


def plan_dossier(call: Call, *, seed: int, index: int, tag: str, end: dt.datetime) -> DossierPlan:
    """Everything one dossier will contain, from its own random generator (seed, index)."""
    rng = random.Random(f"{seed}:dossier:{index}")
    priority = _weighted(rng, PRIORITY_WEIGHTS)
    places = [place for place in PLACES if place[4] == priority] if priority != CITY else PLACES
    place = rng.choice(places)
    commune, _postcode, departement, region, _kind, neighbours = place
    sectors = _sample_weighted(rng, SECTOR_WEIGHTS, _weighted(rng, SECTOR_COUNT_WEIGHTS))
    consortium = {
        "name": f"{rng.choice(BRANDS)} {rng.choice(COMPLEMENTS)}"
        + (f" {of_place(commune)}" if rng.random() < 0.6 else ""),
        "communes": ", ".join([commune, *[n for n in neighbours.split(", ") if n and rng.random() < 0.6]]),
        "departement": departement,
        "region": region,
        "territory_priority": priority,
        "maturity": _weighted(rng, MATURITY_WEIGHTS),
        "sectors": [str(sector) for sector in sectors],
    }
    names: set[str] = set()
    sirets: set[str] = set()
    organisations = [_organisation(rng, _weighted(rng, LEAD_KIND_WEIGHTS), place, names, sirets)]
    organisations[0]["is_lead"] = True
    organisations.append(_organisation(rng, _weighted(rng, OTHER_KIND_WEIGHTS), place, names, sirets))
    for _ in range(_weighted(rng, ORGANISATION_COUNT_WEIGHTS) - 2):
        organisations.append(_organisation(rng, _weighted(rng, MEMBER_KIND_WEIGHTS), place, names, sirets))
    domain = organisations[0]["email_domain"]
    owner = _person(rng, f"{tag}-{index:05d}", domain)
    editor = _person(rng, f"{tag}-{index:05d}r", domain) if rng.random() < 1 / 3 else None
    merit = (
        rng.gauss(0, 1) + (0.3 if consortium["maturity"] == Maturity.MATURE else 0) + (0.2 if priority != CITY else 0)
    )
    sections = _sections(rng, call, consortium, organisations, owner, merit)
    return DossierPlan(
        index=index,
        consortium=consortium,
        organisations=organisations,
        owner=owner,
        editor=editor,
        sections=sections,
        merit=merit,
        submitted_at=_submitted_at(rng, call, end),
        # Unique in the database, so they depend on the call too; in the snapshot, so drawn from the seed.
        uuid_seed=f"{seed}:{call.reference_prefix}:uuids:{index}",
        submitter_is_editor=editor is not None and rng.random() < 0.4,
    )


def check_plan(call: Call, plan: DossierPlan) -> None:
    """Every section must validate with its form: a generator bug is an error, not bad data."""
    for form_class in SECTION_FORMS:
        state = section_state(form_class, call, plan.sections[form_class.key])
        if not state.complete:
            raise AssertionError(
                f"dataset: section {form_class.key} of dossier {plan.index} is invalid: {state.errors}"
            )


# --- Writing ---


@dataclass
class DatasetSummary:
    call: str
    applicants: int = 0
    consortia: int = 0
    organisations: int = 0
    dossiers: int = 0
    attachments: int = 0
    reviewers: int = 0
    assignments: int = 0
    reviews: int = 0
    conflicts: int = 0
    uncovered: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def total_seconds(self) -> float:
        return sum(self.seconds.values())

    def lines(self) -> list[str]:
        return [
            f"Appel : {self.call}",
            f"  porteurs {self.applicants}, pôles {self.consortia}, organisations {self.organisations}",
            f"  dossiers déposés {self.dossiers}, pièces jointes {self.attachments}",
            f"  évaluateurs créés {self.reviewers}, attributions {self.assignments}, évaluations remises "
            f"{self.reviews}, conflits {self.conflicts}, dossiers non couverts {self.uncovered}",
            "  durées : " + ", ".join(f"{phase} {seconds:.1f} s" for phase, seconds in self.seconds.items()),
            f"  total : {self.total_seconds:.1f} s",
        ]


@contextmanager
def _phase(summary: DatasetSummary, name: str, stdout):
    start = time.perf_counter()
    yield
    summary.seconds[name] = summary.seconds.get(name, 0) + time.perf_counter() - start
    if stdout is not None:
        stdout.write(f"  {name} : {summary.seconds[name]:.1f} s")


def staff_user() -> User:
    """The program staff member recorded as author of the automatic assignment."""
    staff = (
        User.objects.filter(is_active=True, groups__name=Role.PROGRAM_STAFF.label).order_by("pk").first()
        or User.objects.filter(is_active=True, is_superuser=True).order_by("pk").first()
    )
    if staff is None:
        staff = User.objects.create_user(
            f"programme@{REVIEWER_DOMAIN}", None, first_name="Dominique", last_name="Programme"
        )
        add_role(staff, Role.PROGRAM_STAFF)
    return staff


def generate_dataset(
    *,
    call: Call,
    dossiers: int,
    reviewers: int,
    reviews_per_dossier: int = 2,
    seed: int = 2013,
    reviews_done: float = 1.0,
    stdout=None,
    password: str | None = None,
    min_pending: Mapping[int, int] | None = None,
    render_pdfs: bool = False,
) -> DatasetSummary:
    """Add `dossiers` submitted dossiers to `call`, create `reviewers` reviewers, assign
    `reviews_per_dossier` reviewers per dossier (reviews.services.auto_assign, with every reviewer
    of the portal) and submit reviews for a fraction `reviews_done` of the assignments.

    Historical or benchmark data: dossiers are frozen with applications.services.build_snapshot
    and content_hash directly, not through submit_dossier, on purpose: its deadline check would
    refuse them. Numbers stay gapless (they continue the call's counter, in submission order) and
    submission times follow a deadline rush before min(deadline, now). No receipt is e-mailed;
    PDFs are queued only with `render_pdfs`. Rows are bulk-created, with their history rows.

    `password` (else unusable) is given to every generated user; `min_pending` maps reviewer ids to
    a number of their assignments left without review (for the demo's reviewer journey). The
    call's `reviewers_per_dossier` is set to `reviews_per_dossier`.
    """
    if dossiers < 0 or reviewers < 0 or not 0 <= reviews_done <= 1:
        raise ValueError("dossiers and reviewers must be >= 0 and reviews_done within 0-1")
    summary = DatasetSummary(call=call.slug)
    password_hash = make_password(password)  # hashed once: hashing is slow on purpose
    with transaction.atomic():
        call = Call.objects.select_for_update().get(pk=call.pk)
        ensure_ptce_criteria(call)
        staff = staff_user()
        with _phase(summary, "plans", stdout):
            offset = Dossier.objects.filter(call=call).count()
            tag = slugify(call.reference_prefix)
            end = min(call.closes_at, timezone.now())
            plans = [plan_dossier(call, seed=seed, index=offset + i + 1, tag=tag, end=end) for i in range(dossiers)]
            for plan in plans:
                check_plan(call, plan)
        with _phase(summary, "dossiers", stdout):
            created = _write_dossiers(call, plans, password_hash, summary)
        with _phase(summary, "attachments", stdout):
            _write_attachments(call, created, summary)
        with _phase(summary, "snapshots", stdout):
            _write_submissions(call, created, render_pdfs, stdout)
        with _phase(summary, "reviewers", stdout):
            _write_reviewers(call, plans, reviewers, reviews_per_dossier, seed, password_hash, summary)
        with _phase(summary, "assignment", stdout):
            if call.reviewers_per_dossier != reviews_per_dossier:
                call.reviewers_per_dossier = reviews_per_dossier
                call._history_user = staff
                call.save(update_fields=["reviewers_per_dossier"])
            # Without any reviewer the dossiers stay "submitted" (auto_assign would move them on).
            if ReviewerProfile.objects.filter(user__is_active=True, user__groups__name=Role.REVIEWER.label).exists():
                before = Assignment.objects.filter(dossier__call=call).count()
                result = auto_assign(call, by=staff)
                summary.assignments = Assignment.objects.filter(dossier__call=call).count() - before
                summary.uncovered = len(result.uncovered)
                summary.conflicts = Conflict.objects.filter(dossier__call=call).count()
        with _phase(summary, "reviews", stdout):
            merits = {dossier.pk: plan.merit for plan, dossier in created}
            summary.reviews = _write_reviews(call, merits, seed, reviews_done, min_pending or {})
    return summary


def _write_dossiers(call: Call, plans: list[DossierPlan], password_hash: str, summary: DatasetSummary):
    """Users, consortia, organisations, memberships, dossiers (numbered) and their sections."""
    users = []
    for plan in plans:
        for person in filter(None, [plan.owner, plan.editor]):
            users.append(
                User(
                    email=person.email,
                    first_name=person.first_name,
                    last_name=person.last_name,
                    password=password_hash,
                    date_joined=plan.submitted_at - dt.timedelta(days=40),
                )
            )
    User.objects.bulk_create(users, batch_size=1000)
    by_email = {user.email: user for user in users}
    applicants, _ = Group.objects.get_or_create(name=Role.APPLICANT.label)
    User.groups.through.objects.bulk_create(
        [User.groups.through(user_id=user.pk, group_id=applicants.pk) for user in users], batch_size=2000
    )
    EmailAddress.objects.bulk_create(
        [EmailAddress(user=user, email=user.email, verified=True, primary=True) for user in users], batch_size=2000
    )
    summary.applicants = len(users)

    consortia = []
    for plan in plans:
        consortium = Consortium(created_by=by_email[plan.owner.email], **plan.consortium)
        consortium._history_user = consortium.created_by
        consortium._history_date = plan.submitted_at - dt.timedelta(days=40)
        consortia.append(consortium)
    bulk_create_with_history(consortia, Consortium, batch_size=1000)
    organisations, memberships = [], []
    for plan, consortium in zip(plans, consortia, strict=True):
        for data in plan.organisations:
            organisation = Organisation(consortium=consortium, **data)
            organisation._history_user = consortium.created_by
            organisation._history_date = consortium._history_date
            organisations.append(organisation)
        for person, role in [(plan.owner, Membership.Role.OWNER), (plan.editor, Membership.Role.EDITOR)]:
            if person is not None:
                membership = Membership(consortium=consortium, user=by_email[person.email], role=role)
                membership._history_user = consortium.created_by
                membership._history_date = consortium._history_date
                memberships.append(membership)
    bulk_create_with_history(organisations, Organisation, batch_size=2000)
    bulk_create_with_history(memberships, Membership, batch_size=2000)
    summary.consortia, summary.organisations = len(consortia), len(organisations)

    # Gapless numbers in submission order, continuing the call's counter (as submit_dossier does).
    ordered = sorted(zip(plans, consortia, strict=True), key=lambda pair: (pair[0].submitted_at, pair[0].index))
    rows = []
    for number, (plan, consortium) in enumerate(ordered, start=call.last_dossier_number + 1):
        rows.append(
            (
                plan,
                Dossier(
                    call=call,
                    consortium=consortium,
                    status=Dossier.Status.SUBMITTED,
                    number=number,
                    reference=f"{call.reference_prefix}-{number:04d}",
                ),
            )
        )
        rows[-1][1].submitter = by_email[(plan.editor if plan.submitter_is_editor else plan.owner).email]
    Dossier.objects.bulk_create([dossier for _plan, dossier in rows], batch_size=1000)
    call.last_dossier_number += len(rows)
    call.save(update_fields=["last_dossier_number"])
    sections = []
    for plan, dossier in rows:
        for key, data in plan.sections.items():
            section = DossierSection(
                dossier=dossier,
                key=key,
                data=data,
                version=1,
                updated_at=plan.submitted_at - dt.timedelta(hours=2),
                updated_by=dossier.consortium.created_by,
            )
            section._history_user = section.updated_by
            section._history_date = section.updated_at
            sections.append(section)
    bulk_create_with_history(sections, DossierSection, batch_size=2000)
    summary.dossiers = len(rows)
    return rows


def _write_attachments(call: Call, rows, summary: DatasetSummary) -> None:
    """One file per required attachment type of the call, stored once and shared by every dossier."""
    types = list(call.attachment_types.filter(required=True).order_by("position", "pk"))
    stored = {}
    for attachment_type in types:
        content = minimal_pdf(f"{call.title} - {attachment_type.label} (jeu de donnees)")
        name = default_storage.save(f"datasets/{slugify(call.slug)}/{attachment_type.code}.pdf", ContentFile(content))
        stored[attachment_type.pk] = (name, len(content), hashlib.sha256(content).hexdigest())
    attachments = []
    for plan, dossier in rows:
        uuid_rng = random.Random(plan.uuid_seed)
        for attachment_type in types:
            name, size, digest = stored[attachment_type.pk]
            attachment = Attachment(
                uuid=uuid.UUID(int=uuid_rng.getrandbits(128), version=4),
                dossier=dossier,
                type=attachment_type,
                original_name=f"{attachment_type.code}.pdf",
                content_type="application/pdf",
                size=size,
                sha256=digest,
                uploaded_by=dossier.consortium.created_by,
            )
            attachment.file.name = name
            attachments.append(attachment)
    Attachment.objects.bulk_create(attachments, batch_size=2000)
    # uploaded_at is auto_now_add: put it back before the submission, or the dossier would show
    # changes made after its submission (has_unsubmitted_changes).
    uploaded = {dossier.pk: plan.submitted_at - dt.timedelta(days=1) for plan, dossier in rows}
    for attachment in attachments:
        attachment.uploaded_at = uploaded[attachment.dossier_id]
    Attachment.objects.bulk_update(attachments, ["uploaded_at"], batch_size=1000)
    summary.attachments = len(attachments)


class _Fetched:
    """Rows fetched in advance, standing for a related manager or queryset: `all()`, `filter()`,
    `select_related()` and `order_by()` give the same rows back. Only valid for the exact query
    build_snapshot makes, which `snapshots()` checks by comparing with the real thing."""

    def __init__(self, rows):
        self.rows = list(rows)

    def __iter__(self):
        return iter(self.rows)

    def __len__(self):
        return len(self.rows)

    def all(self):
        return self

    def filter(self, *args, **kwargs):
        return self

    def select_related(self, *fields):
        return self

    def order_by(self, *fields):
        return self


class _Prefetched:
    """A model instance whose named related managers are replaced by `_Fetched` rows."""

    def __init__(self, instance, **related):
        self._instance = instance
        self.__dict__.update(related)

    def __getattr__(self, name):
        return getattr(self._instance, name)


# Compared with the real build_snapshot: the first dossiers, then one in CHECK_EVERY.
CHECK_FIRST, CHECK_EVERY = 3, 50


def snapshots(dossier_ids: list[int], *, stdout=None) -> dict[int, dict]:
    """applications.services.build_snapshot for many dossiers, in a constant number of queries.

    build_snapshot queries a dossier's team and attachments itself (two queries per dossier, the
    slowest part at 2,000 dossiers); here it runs on the dossier with those rows prefetched for
    all dossiers at once, so its own code builds the content. A sample is built again with the
    real build_snapshot: on any difference (build_snapshot changed the rows it reads), every
    snapshot is rebuilt the slow, exact way.
    """
    fetched = list(
        Dossier.objects.filter(pk__in=dossier_ids)
        .select_related("call", "consortium")
        .prefetch_related(
            "sections",
            "consortium__organisations",
            Prefetch("consortium__memberships", Membership.objects.select_related("user").order_by("user__email")),
            Prefetch("attachments", Attachment.objects.filter(removed_at__isnull=True).select_related("type")),
        )
        .order_by("pk")
    )
    contents = {}
    for dossier in fetched:
        consortium = _Prefetched(
            dossier.consortium,
            organisations=_Fetched(dossier.consortium.organisations.all()),
            memberships=_Fetched(dossier.consortium.memberships.all()),
        )
        contents[dossier.pk] = build_snapshot(
            _Prefetched(
                dossier,
                consortium=consortium,
                sections=_Fetched(dossier.sections.all()),
                attachments=_Fetched(dossier.attachments.all()),
            )
        )
    sample = [d for i, d in enumerate(fetched) if i < CHECK_FIRST or i % CHECK_EVERY == 0]
    if any(build_snapshot(dossier) != contents[dossier.pk] for dossier in sample):
        if stdout is not None:
            stdout.write("  build_snapshot a changé : instantanés recalculés un par un (plus lent).")
        contents = {dossier.pk: build_snapshot(dossier) for dossier in fetched}
    return contents


def _write_submissions(call: Call, rows, render_pdfs: bool, stdout=None) -> None:
    """Snapshot, hash and version 1 of every dossier, with the trace rows submit_dossier writes."""
    by_pk = {dossier.pk: (plan, dossier) for plan, dossier in rows}
    contents = snapshots(list(by_pk), stdout=stdout)
    submissions, events = [], []
    for plan, dossier in rows:
        content = contents[dossier.pk]
        submissions.append(
            Submission(
                dossier=dossier,
                version=1,
                reference=dossier.reference,
                submitted_at=plan.submitted_at,
                submitted_by=dossier.submitter,
                content=content,
                content_sha256=content_hash(content),
            )
        )
    Submission.objects.bulk_create(submissions, batch_size=500)
    for submission in submissions:
        plan, dossier = by_pk[submission.dossier_id]
        dossier.current_submission = submission
        dossier.created_at = plan.submitted_at - dt.timedelta(days=30)
        events.append(
            DossierEvent(
                dossier=dossier,
                kind=DossierEvent.Kind.STATUS,
                at=dossier.created_at,
                by=dossier.consortium.created_by,
                to_status=Dossier.Status.DRAFT,
            )
        )
        events.append(
            DossierEvent(
                dossier=dossier,
                kind=DossierEvent.Kind.SUBMISSION,
                at=plan.submitted_at,
                by_id=submission.submitted_by_id,
                from_status=Dossier.Status.DRAFT,
                to_status=Dossier.Status.SUBMITTED,
            )
        )
    dossiers = [dossier for _plan, dossier in rows]
    Dossier.objects.bulk_update(dossiers, ["current_submission", "created_at"], batch_size=1000)
    DossierEvent.objects.bulk_create(events, batch_size=2000)
    for dossier in dossiers:
        dossier._history_user = dossier.consortium.created_by
        dossier._history_date = by_pk[dossier.pk][0].submitted_at
    Dossier.history.bulk_history_create(dossiers, batch_size=2000)
    if render_pdfs:
        for submission in submissions:
            enqueue(
                "applications.tasks.render_submission_pdf_task",
                key=f"pdf:{submission.pk}",
                submission_id=submission.pk,
            )


def _write_reviewers(
    call: Call,
    plans: list[DossierPlan],
    count: int,
    reviews_per_dossier: int,
    seed: int,
    password_hash: str,
    summary: DatasetSummary,
) -> None:
    """Reviewers with a profile: capacity for their share plus slack, a home region, expertise,
    and for about one in twenty a tie to an organisation of the dataset (a conflict to detect)."""
    if count == 0:
        return
    capacity = math.ceil(reviews_per_dossier * len(plans) / count * 1.25) + 2
    tag = slugify(call.reference_prefix)
    # Numbered after the reviewers an earlier run made for this call: e-mail addresses are unique.
    offset = User.objects.filter(email__endswith=f"-{tag}@{REVIEWER_DOMAIN}").count()
    reviewers, profiles = [], []
    regions = [place[3] for place in PLACES]
    for index in range(offset + 1, offset + count + 1):
        rng = random.Random(f"{seed}:reviewer:{index}")
        person = _person(rng, f"{index:04d}-{tag}", REVIEWER_DOMAIN)
        user = User(
            email=person.email,
            first_name=person.first_name,
            last_name=person.last_name,
            password=password_hash,
            is_staff=True,
        )
        home = rng.choice(regions)
        known = sorted({home, *rng.sample(regions, rng.randint(0, 2))})
        sirets = []
        if plans and rng.random() < 0.05:
            sirets = [rng.choice(rng.choice(plans).organisations)["siret"]]
        reviewers.append(user)
        profiles.append(
            ReviewerProfile(
                user=user,
                capacity=capacity,
                home_region=home,
                regions=known,
                sectors=[str(s) for s in _sample_weighted(rng, SECTOR_WEIGHTS, rng.randint(2, 4))],
                sirets=sirets,
            )
        )
    User.objects.bulk_create(reviewers)
    for user in reviewers:
        add_role(user, Role.REVIEWER)
    EmailAddress.objects.bulk_create(
        [EmailAddress(user=u, email=u.email, verified=True, primary=True) for u in reviewers]
    )
    bulk_create_with_history(profiles, ReviewerProfile)
    summary.reviewers = count


def leniency(seed: int, email: str) -> float:
    """A reviewer's own severity (negative) or leniency (positive), in points on a 0-5 scale."""
    return random.Random(f"{seed}:leniency:{email}").gauss(0, LENIENCY_SPREAD)


SCORE_COMMENTS = {
    0: "Critère non traité dans le dossier.",
    1: "Éléments très insuffisants.",
    2: "Éléments partiels, à préciser.",
    3: "Réponse correcte, quelques fragilités.",
    4: "Bonne réponse, argumentée.",
    5: "Excellent, exemplaire pour l'appel.",
}
RECOMMENDATION_COMMENTS = {
    Review.Recommendation.FUND: "Projet solide et cohérent : je recommande son financement.",
    Review.Recommendation.FUND_WITH_CONDITIONS: "Projet intéressant ; le budget et la gouvernance sont à préciser.",
    Review.Recommendation.DO_NOT_FUND: "Projet encore trop fragile au regard des critères de l'appel.",
}


def _write_reviews(call: Call, merits: dict[int, float], seed: int, done: float, min_pending: Mapping) -> int:
    """Submitted reviews for a fraction of the new assignments: per criterion, a score drawn from
    the dossier's merit, the reviewer's leniency and noise (what calibration has to recover)."""
    criteria = list(Criterion.objects.filter(call=call).order_by("position", "pk"))
    assignments = list(
        Assignment.objects.filter(dossier_id__in=merits, review__isnull=True)
        .select_related("reviewer", "dossier__consortium")
        .order_by("dossier__number", "reviewer__email")
    )
    if not assignments or not criteria:
        return 0
    rng = random.Random(f"{seed}:reviews")
    order = list(assignments)
    rng.shuffle(order)
    kept_back = set()
    pending_left = dict(min_pending)
    for assignment in order:
        if pending_left.get(assignment.reviewer_id, 0) > 0:
            pending_left[assignment.reviewer_id] -= 1
            kept_back.add(assignment.pk)
    candidates = [a for a in order if a.pk not in kept_back]
    chosen = candidates[: min(round(done * len(assignments)), len(candidates))]
    chosen.sort(key=lambda a: (a.dossier.number, a.reviewer.email))

    weights = {c.pk: c.weight for c in criteria}
    scale = {c.pk: c.scale_max for c in criteria}
    now = timezone.now()
    reviews, scores_by_review = [], []
    for assignment in chosen:
        dossier = assignment.dossier
        draw = random.Random(f"{seed}:review:{dossier.number}:{assignment.reviewer.email}")
        bias = leniency(seed, assignment.reviewer.email)
        values, scores = {}, []
        for criterion in criteria:
            # The dossier's own strength or weakness on this criterion, the same for every reviewer.
            effect = random.Random(f"{seed}:effect:{dossier.number}:{criterion.position}").gauss(0, CRITERION_SPREAD)
            if (
                criterion.allows_not_applicable
                and dossier.consortium.territory_priority == TerritoryPriority.NONE
                and draw.random() < 0.8
            ):
                values[criterion.pk] = None
                scores.append(Score(criterion=criterion, value=None, not_applicable=True, comment="Sans objet."))
                continue
            raw = BASE_SCORE + MERIT_WEIGHT * merits[dossier.pk] + effect + bias + draw.gauss(0, NOISE)
            value = min(max(round(raw), 0), criterion.scale_max)
            values[criterion.pk] = value
            scores.append(Score(criterion=criterion, value=value, comment=SCORE_COMMENTS.get(value, "")))
        total = weighted_total(values, weights, scale)
        # As reviews.services.compute_weighted_total rounds it.
        weighted = None if total is None else Decimal(str(round(total, 2)))
        if total is not None and total >= 70:
            recommendation = Review.Recommendation.FUND
        elif total is not None and total >= 50:
            recommendation = Review.Recommendation.FUND_WITH_CONDITIONS
        else:
            recommendation = Review.Recommendation.DO_NOT_FUND
        review = Review(
            assignment=assignment,
            status=Review.Status.SUBMITTED,
            recommendation=recommendation,
            overall_comment=RECOMMENDATION_COMMENTS[recommendation],
            weighted_total=weighted,
            submitted_at=now,
        )
        review._history_user = assignment.reviewer
        reviews.append(review)
        scores_by_review.append(scores)
    bulk_create_with_history(reviews, Review, batch_size=2000)
    all_scores = []
    for review, scores in zip(reviews, scores_by_review, strict=True):
        for score in scores:
            score.review = review
            score._history_user = review._history_user
            all_scores.append(score)
    bulk_create_with_history(all_scores, Score, batch_size=5000)
    Assignment.objects.filter(pk__in=[a.pk for a in chosen], no_conflict_confirmed_at__isnull=True).update(
        no_conflict_confirmed_at=now
    )
    return len(reviews)
