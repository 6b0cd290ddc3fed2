import datetime as dt
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from applications.calls import ensure_ptce_call
from applications.clock import local_instant
from applications.models import Call
from audit.services import seal_unchained_history
from demo.dataset import generate_dataset

# Real 2013 figures (PRODUCT.md): 182 dossiers, 23 laureates, 3 M€; a generated call scales them.
REAL_DOSSIERS, REAL_LAUREATES, REAL_ENVELOPE = 182, 23, 3_000_000


def dataset_call(seed: int, dossiers: int) -> Call:
    """A closed call shaped like the 2013 one, its envelope and laureates scaled to the volume."""
    call, created = ensure_ptce_call(
        slug=f"jeu-de-donnees-{seed}",
        title=f"Jeu de données {seed}",
        reference_prefix=f"DATA-{seed}",
        opens_at=local_instant(dt.datetime(2013, 7, 15)),
        closes_at=local_instant(dt.datetime(2013, 10, 31)),
        first_funding_year=2014,
    )
    if not created and call.dossiers.exists():
        raise CommandError(f"L'appel « {call.title} » a déjà des dossiers : choisissez une autre graine ou --call.")
    scale = max(dossiers, 1) / REAL_DOSSIERS
    call.target_laureates = max(round(REAL_LAUREATES * scale), 1)
    call.envelope = max(round(REAL_ENVELOPE * scale, -5), 100_000)
    call.closed_at = call.closes_at  # a past call: closed at its deadline, no closing e-mail to send now
    call.save(update_fields=["target_laureates", "envelope", "closed_at"])
    return call


class Command(BaseCommand):
    help = (
        "Génère un jeu de données réaliste et reproductible (porteurs, pôles, dossiers déposés, évaluateurs, "
        "attributions, évaluations) pour les mesures de performance et la démonstration."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dossiers", type=int, default=2000)
        parser.add_argument("--reviewers", type=int, default=100)
        parser.add_argument("--seed", type=int, default=2013)
        parser.add_argument("--call", help="Identifiant (slug) d'un appel existant ; par défaut un nouvel appel clos.")
        parser.add_argument("--reviews-per-dossier", type=int, default=2)
        parser.add_argument("--reviews-done", type=float, default=1.0, help="Part des évaluations remises (0 à 1).")
        parser.add_argument("--password", help="Mot de passe des comptes créés ; par défaut, aucun (inutilisable).")

    def handle(self, *args, **options):
        if not 0 <= options["reviews_done"] <= 1:
            raise CommandError("--reviews-done doit être compris entre 0 et 1.")
        started = time.perf_counter()
        with transaction.atomic():
            if options["call"]:
                call = Call.objects.filter(slug=options["call"]).first()
                if call is None:
                    raise CommandError(f"Aucun appel « {options['call']} ».")
            else:
                call = dataset_call(options["seed"], options["dossiers"])
            summary = generate_dataset(
                call=call,
                dossiers=options["dossiers"],
                reviewers=options["reviewers"],
                reviews_per_dossier=options["reviews_per_dossier"],
                seed=options["seed"],
                reviews_done=options["reviews_done"],
                password=options["password"],
                stdout=self.stdout,
            )
            # The generator writes history in bulk: chain it now, as part of the same import.
            sealed = seal_unchained_history()
        self.stdout.write(f"Historique chaîné : {sealed} lignes.")
        # A bulk load leaves the planner's statistics behind until autovacuum catches up (a
        # minute or more): refresh them, as PostgreSQL's documentation advises after bulk loading.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        for line in summary.lines():
            self.stdout.write(line)
        self.stdout.write(f"Terminé en {time.perf_counter() - started:.1f} s.")
