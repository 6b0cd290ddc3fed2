import datetime as dt

from django.utils import timezone

from applications.models import Consortium, Dossier, Organisation, Submission
from applications.tests.factories import CallFactory, ConsortiumFactory, DossierFactory, make_siret
from awards import services
from awards.models import Decision
from reviews.models import Assignment, Review
from reviews.tests.factories import ReviewerFactory

COMMITTEE = dt.date(2014, 1, 15)


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


def bulk_reviewed_call(count: int):
    """A call with `count` dossiers submitted and reviewed once, a third of them with a lead structure,
    bulk-created (factories would take minutes at 500): (call, dossiers, the consortia's creator)."""
    call = CallFactory(envelope=100_000_000, target_laureates=count)
    reviewer = ReviewerFactory()
    owner = ConsortiumFactory().created_by
    consortia = Consortium.objects.bulk_create(
        [
            Consortium(
                name=f"Pôle {n}", communes="X", departement="93", region="IDF", maturity="mature", created_by=owner
            )
            for n in range(count)
        ]
    )
    Organisation.objects.bulk_create(
        [
            Organisation(consortium=c, name=f"Structure {n}", siret=make_siret(n), kind="ess_association", is_lead=True)
            for n, c in enumerate(consortia[::3])
        ]
    )
    dossiers = Dossier.objects.bulk_create(
        [
            Dossier(
                call=call,
                consortium=c,
                status=Dossier.Status.UNDER_REVIEW,
                number=n,
                reference=f"{call.reference_prefix}-{n:04d}",
            )
            for n, c in enumerate(consortia, start=1)
        ]
    )
    budget = {"budget": {"requested": {"amounts": [10_000, 10_000, 10_000], "total": 30_000}}}
    submissions = Submission.objects.bulk_create(
        [
            Submission(
                dossier=d,
                version=1,
                reference=d.reference,
                submitted_at=timezone.now(),
                submitted_by=owner,
                content=budget,
                content_sha256="0" * 64,
            )
            for d in dossiers
        ]
    )
    for dossier, submission in zip(dossiers, submissions, strict=True):
        dossier.current_submission = submission
    Dossier.objects.bulk_update(dossiers, ["current_submission"])
    assignments = Assignment.objects.bulk_create([Assignment(reviewer=reviewer, dossier=d) for d in dossiers])
    Review.objects.bulk_create(
        [
            Review(
                assignment=a, status=Review.Status.SUBMITTED, weighted_total=50 + n % 40, submitted_at=timezone.now()
            )
            for n, a in enumerate(assignments)
        ]
    )
    return call, dossiers, owner


def laureate(dossier: Dossier, staff, amounts=None) -> Decision:
    """The committee's laureate decision on `dossier`, awarded `amounts` (default: what it asked)."""
    return services.record_decision(
        dossier, outcome=Decision.Outcome.LAUREATE, committee_date=COMMITTEE, amounts=amounts, by=staff
    )
