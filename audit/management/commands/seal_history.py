from django.core.management.base import BaseCommand

from audit.services import seal_unchained_history


class Command(BaseCommand):
    help = (
        "Chaîne les entrées d'historique qui n'ont pas encore de maillon : celles écrites avant "
        "l'installation de l'application audit ou par un import en masse (generate_dataset). "
        "À lancer juste après un tel import, jamais pour faire taire verify_history."
    )

    def handle(self, *args, **options):
        sealed = seal_unchained_history()
        self.stdout.write(self.style.SUCCESS(f"{sealed} ligne(s) sans maillon chaînée(s)."))
