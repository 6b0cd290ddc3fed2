"""Demo content: the 2013 call as published (with reviewed dossiers), an open call shaped like it, and Cité Phares."""

import datetime as dt

from allauth.account.models import EmailAddress
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role, add_role
from applications import consortia, services
from applications.calls import ensure_ptce_2013, ensure_ptce_call
from applications.clock import local_instant
from applications.models import Consortium, Maturity, OrganisationKind, Region, Sector, TerritoryPriority
from applications.sirets import luhn_ok
from reviews.criteria import ensure_ptce_criteria
from reviews.models import ReviewerProfile

from .dataset import DatasetSummary, generate_dataset

# The 2013 call as it could have been reviewed: 60 dossiers, 2 reviewers each, 85 % of reviews in.
DEMO_2013_DOSSIERS, DEMO_2013_REVIEWS_DONE, DEMO_SEED = 60, 0.85, 2013

# (first name, last name, home region, sectors of expertise) of evaluateur1@ … evaluateur8@demo.ptce.fr
DEMO_REVIEWERS = [
    ("Hélène", "Garnier", Region.ILE_DE_FRANCE, [Sector.INSERTION, Sector.POPULAR_EDUCATION]),
    ("Karim", "Benali", Region.HAUTS_DE_FRANCE, [Sector.RECYCLING, Sector.INSERTION]),
    ("Sophie", "Le Gall", Region.BRETAGNE, [Sector.ORGANIC_FARMING, Sector.SUSTAINABLE_CONSUMPTION]),
    ("Julien", "Roux", Region.AUVERGNE_RHONE_ALPES, [Sector.RENEWABLE_ENERGY, Sector.HOUSING]),
    ("Nadia", "Haddad", Region.PROVENCE_ALPES_COTE_D_AZUR, [Sector.EARLY_CHILDHOOD, Sector.SERVICES_TO_PEOPLE]),
    ("Thomas", "Faure", Region.OCCITANIE, [Sector.CULTURE, Sector.DIGITAL]),
    ("Claire", "Mercier", Region.GRAND_EST, [Sector.MOBILITY, Sector.INSERTION]),
    ("Olivier", "Lambert", Region.NOUVELLE_AQUITAINE, [Sector.ORGANIC_FARMING, Sector.RECYCLING]),
]
REVIEWER_CAPACITY = 20


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


def demo_reviewer_emails() -> list[str]:
    return [f"evaluateur{index}@demo.ptce.fr" for index in range(1, len(DEMO_REVIEWERS) + 1)]


def ensure_reviewer_profile(user, *, home_region: str, sectors: list[str]) -> ReviewerProfile:
    profile, _ = ReviewerProfile.objects.get_or_create(
        user=user,
        defaults={
            "capacity": REVIEWER_CAPACITY,
            "home_region": home_region,
            "regions": [home_region],
            "sectors": sectors,
        },
    )
    return profile


def load_demo_reviewers(*, password: str) -> list[User]:
    """evaluateur1@ … evaluateur8@demo.ptce.fr: e-mail verified, reviewer role and profile."""
    password_hash = None  # hashed once for all, and only if needed: hashing is slow on purpose
    reviewers = []
    for email, (first_name, last_name, home_region, sectors) in zip(
        demo_reviewer_emails(), DEMO_REVIEWERS, strict=True
    ):
        user = User.objects.filter(email=email).first()
        if user is None:
            password_hash = password_hash or make_password(password)
            user = User.objects.create(email=email, password=password_hash, first_name=first_name, last_name=last_name)
        add_role(user, Role.REVIEWER)
        EmailAddress.objects.update_or_create(user=user, email=email, defaults={"verified": True, "primary": True})
        ensure_reviewer_profile(user, home_region=home_region, sectors=sectors)
        reviewers.append(user)
    return reviewers


def load_2013_dataset(*, reviewer) -> DatasetSummary | None:
    """Submitted dossiers on the 2013 call, assigned to the demo reviewers and mostly reviewed, so
    that staff see a ranking at once; `reviewer` keeps at least two reviews to do. Nothing is done
    when the call already has dossiers."""
    call, _ = ensure_ptce_2013()
    if call.dossiers.exists():
        return None
    return generate_dataset(
        call=call,
        dossiers=DEMO_2013_DOSSIERS,
        reviewers=0,
        seed=DEMO_SEED,
        reviews_done=DEMO_2013_REVIEWS_DONE,
        min_pending={reviewer.pk: 2},
        render_pdfs=True,
    )
