import datetime as dt

from django.utils import timezone

from applications.models import Dossier, Submission
from applications.tests.factories import CallFactory, DossierFactory


def submitted_with_request(call=None, amounts=(100_000, 100_000, 100_000), **kwargs) -> Dossier:
    """A submitted dossier whose frozen budget asks `amounts` per year."""
    dossier = DossierFactory(call=call or CallFactory(), status=Dossier.Status.UNDER_REVIEW, **kwargs)
    dossier.number = Dossier.objects.filter(call=dossier.call).count()
    dossier.reference = f"{dossier.call.reference_prefix}-{dossier.number:04d}"
    submission = Submission.objects.create(
        dossier=dossier,
        version=1,
        reference=dossier.reference,
        submitted_at=timezone.now() - dt.timedelta(days=30),
        submitted_by=dossier.consortium.created_by,
        content={"budget": {"requested": {"amounts": list(amounts), "total": sum(amounts)}}},
        content_sha256="0" * 64,
    )
    dossier.current_submission = submission
    dossier.save()
    return dossier
