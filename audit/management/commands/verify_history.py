from django.core.management.base import BaseCommand, CommandError

from audit.verification import verify_history

SHOWN = 20


class Command(BaseCommand):
    help = (
        "Recalcule la chaîne d'empreintes de l'historique depuis les tables d'historique et vérifie les "
        "empreintes quotidiennes ; nomme la première anomalie et sort en erreur s'il y en a une."
    )

    def handle(self, *args, **options):
        report = verify_history()
        if report.first is None:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Historique intègre : {report.links} maillon(s) vérifié(s), dernier n° {report.last_sequence}, "
                    f"empreinte {report.head_hash} ; {report.digests} empreinte(s) quotidienne(s) vérifiée(s)."
                )
            )
            return
        anomalies = sorted(report.anomalies, key=lambda anomaly: anomaly.sort_key())
        for anomaly in anomalies[:SHOWN]:
            self.stderr.write(f"- {anomaly}")
        if len(anomalies) > SHOWN:
            self.stderr.write(f"… et {len(anomalies) - SHOWN} autre(s) anomalie(s).")
        raise CommandError(f"Historique altéré ({len(anomalies)} anomalie(s)). Première anomalie : {report.first}")
