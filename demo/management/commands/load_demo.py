from allauth.account.models import EmailAddress
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import User
from accounts.roles import Role, add_role
from applications.models import Region, Sector
from audit.services import seal_unchained_history
from demo.data import (
    demo_reviewer_emails,
    ensure_reviewer_profile,
    load_2013_dataset,
    load_calls,
    load_cite_phares,
    load_demo_reviewers,
)

DEMO_PASSWORD = "demo-ptce-2013"

DEMO_USERS = [
    # (e-mail, first name, last name, role or None for the superuser)
    ("porteur@demo.ptce.fr", "Camille", "Porteur", Role.APPLICANT),
    ("evaluateur@demo.ptce.fr", "Dominique", "Évaluateur", Role.REVIEWER),
    ("programme@demo.ptce.fr", "Sacha", "Programme", Role.PROGRAM_STAFF),
    ("admin@demo.ptce.fr", "Alex", "Administrateur", None),
]


class Command(BaseCommand):
    help = "Charge les données de démonstration (idempotent) et affiche les comptes de démonstration."

    @transaction.atomic
    def handle(self, *args, **options):
        users = {}
        for email, first_name, last_name, role in DEMO_USERS:
            user = User.objects.filter(email=email).first()
            if user is None:
                create = User.objects.create_superuser if role is None else User.objects.create_user
                user = create(email, DEMO_PASSWORD, first_name=first_name, last_name=last_name)
            if role is not None:
                add_role(user, role)
            EmailAddress.objects.update_or_create(user=user, email=email, defaults={"verified": True, "primary": True})
            users[role] = user
        reviewer = users[Role.REVIEWER]
        ensure_reviewer_profile(reviewer, home_region=Region.ILE_DE_FRANCE, sectors=[Sector.INSERTION])
        load_demo_reviewers(password=DEMO_PASSWORD)
        _call_2013, open_call = load_calls()
        load_cite_phares(users[Role.APPLICANT], open_call)
        dataset = load_2013_dataset(reviewer=reviewer)
        if dataset is not None:
            self.stdout.write(
                f"Appel 2013 : {dataset.dossiers} dossiers déposés, {dataset.assignments} évaluations attribuées, "
                f"{dataset.reviews} remises."
            )

        # The demo dataset writes history in bulk: chain it as part of the same load.
        seal_unchained_history()

        self.stdout.write(f"Comptes de démonstration (mot de passe : {DEMO_PASSWORD})")
        for email, _first, _last, role in DEMO_USERS:
            label = role.label if role else "Super-administrateur"
            self.stdout.write(f"  {label:<22} {email}")
        emails = demo_reviewer_emails()
        self.stdout.write(f"  {Role.REVIEWER.label:<22} {emails[0]} … {emails[-1]}")
        self.stdout.write(
            "Évaluateurs, chargés de programme et super-administrateur : à la première connexion, le portail "
            "demande d'activer la double authentification (application TOTP : FreeOTP, Aegis, Google "
            "Authenticator…), puis un code à six chiffres à chaque connexion. Les porteurs de projet n'en ont pas besoin."
        )
