from django.core.management.base import BaseCommand
from django.utils import formats, timezone

from applications.calls import ensure_ptce_2013


class Command(BaseCommand):
    help = "Crée l'appel à projets PTCE 2013 tel que le décrit le texte de l'appel (idempotent)."

    def handle(self, *args, **options):
        call, created = ensure_ptce_2013()
        closes = formats.date_format(timezone.localtime(call.closes_at), "DATETIME_FORMAT")
        verb = "créé" if created else "déjà présent"
        self.stdout.write(f"{call.title} {verb} : clôture le {closes}, enveloppe {call.envelope} €.")
