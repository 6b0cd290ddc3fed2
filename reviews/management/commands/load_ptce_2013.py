from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import formats, timezone

from applications.calls import ensure_ptce_2013
from reviews.criteria import ensure_ptce_criteria


class Command(BaseCommand):
    help = "Crée l'appel à projets PTCE 2013 tel que le décrit le texte de l'appel, avec sa grille d'évaluation (idempotent)."

    @transaction.atomic
    def handle(self, *args, **options):
        call, created = ensure_ptce_2013()
        criteria = ensure_ptce_criteria(call)
        closes = formats.date_format(timezone.localtime(call.closes_at), "DATETIME_FORMAT")
        verb = "créé" if created else "déjà présent"
        self.stdout.write(
            f"{call.title} {verb} : clôture le {closes}, enveloppe {call.envelope} €, "
            f"{call.criteria.count()} critères d'évaluation ({criteria} ajoutés)."
        )
