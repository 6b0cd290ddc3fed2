import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from applications.models import Consortium, Dossier
from applications.tests.factories import CallFactory, ConsortiumFactory
from conftest import sign_in
from reviews.models import Assignment, Criterion, Review, Score
from reviews.ranking import rank_call
from reviews.tests.factories import ReviewerFactory


def make_dossiers(call, count, start=1):
    owner = ConsortiumFactory().created_by
    consortia = Consortium.objects.bulk_create(
        [
            Consortium(
                name=f"Pôle {n}", communes="X", departement="93", region="IDF", maturity="mature", created_by=owner
            )
            for n in range(start, start + count)
        ]
    )
    return Dossier.objects.bulk_create(
        [
            Dossier(call=call, consortium=c, status=Dossier.Status.UNDER_REVIEW, number=n, reference=f"T-{n:04d}")
            for n, c in enumerate(consortia, start=start)
        ]
    )


def review(reviewer, dossier, total):
    assignment = Assignment.objects.create(reviewer=reviewer, dossier=dossier)
    return Review.objects.create(
        assignment=assignment, status=Review.Status.SUBMITTED, weighted_total=total, submitted_at=timezone.now()
    )


@pytest.fixture
def call(db):
    return CallFactory()


def test_calibration_removes_a_lenient_and_a_severe_reviewer(call, settings):
    settings.CALIBRATION_SHRINKAGE = 0.0
    settings.CALIBRATION_MIN_REVIEWS = 3
    d1, d2, d3, d4 = make_dossiers(call, 4)
    lenient, severe, neutral = ReviewerFactory(), ReviewerFactory(), ReviewerFactory()
    # True merits 80, 70, 60, 50. The lenient reviewer adds 10, the severe one removes 10.
    for dossier, merit in [(d1, 80), (d2, 70), (d3, 60)]:
        review(lenient, dossier, merit + 10)
    for dossier, merit in [(d2, 70), (d3, 60), (d4, 50)]:
        review(severe, dossier, merit - 10)
    for dossier, merit in [(d1, 80), (d4, 50), (d3, 60)]:
        review(neutral, dossier, merit)

    rows = {row.dossier.reference: row for row in rank_call(call).rows}

    # Raw means are distorted (d1 seen by the lenient reviewer, d4 by the severe one)...
    assert rows["T-0001"].raw_mean == pytest.approx(85)
    assert rows["T-0004"].raw_mean == pytest.approx(45)
    # ...the calibrated scores recover the merits.
    assert [round(rows[f"T-000{n}"].calibrated, 6) for n in range(1, 5)] == [80, 70, 60, 50]
    assert [row.dossier.reference for row in rank_call(call).rows] == ["T-0001", "T-0002", "T-0003", "T-0004"]


def test_raw_order_and_disagreement_flag(call):
    call.disagreement_threshold = 25
    call.save()
    d1, d2 = make_dossiers(call, 2)
    a, b = ReviewerFactory(), ReviewerFactory()
    review(a, d1, 90)
    review(b, d1, 50)
    review(a, d2, 60)

    ranking = rank_call(call, order="raw")
    rows = {row.dossier.reference: row for row in ranking.rows}

    assert rows["T-0001"].disagreement is True
    assert rows["T-0002"].disagreement is False
    assert (rows["T-0001"].median, rows["T-0001"].spread, rows["T-0001"].done) == (70, 40, 2)


def test_eliminatory_threshold_sends_a_dossier_last(call):
    jobs = Criterion.objects.create(call=call, name="Emplois non délocalisables", eliminatory_below=2, scale_max=5)
    d1, d2 = make_dossiers(call, 2)
    reviewer = ReviewerFactory()
    best = review(reviewer, d1, 95)
    Score.objects.create(review=best, criterion=jobs, value=1)
    review(reviewer, d2, 60)

    rows = rank_call(call).rows

    assert [(row.dossier.reference, row.rank, row.eliminated_by) for row in rows] == [
        ("T-0002", 1, []),
        ("T-0001", None, ["Emplois non délocalisables"]),
    ]


def ranking_queries(client, call, dossiers):
    made = make_dossiers(call, dossiers, start=Dossier.objects.count() + 1)
    reviewers = [ReviewerFactory() for _ in range(3)]
    assignments = Assignment.objects.bulk_create(
        [Assignment(reviewer=reviewers[i % 3], dossier=d) for i, d in enumerate(made)]
    )
    Review.objects.bulk_create(
        [
            Review(assignment=a, status="submitted", weighted_total=50 + i % 40, submitted_at=timezone.now())
            for i, a in enumerate(assignments)
        ]
    )
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("reviews:ranking", args=[call.slug]))
    assert response.status_code == 200
    return len(queries)


def test_ranking_page_runs_the_same_queries_at_10_and_500_dossiers(client, program_staff):
    sign_in(client, program_staff)
    small = ranking_queries(client, CallFactory(), 10)
    large = ranking_queries(client, CallFactory(), 500)
    assert small == large <= 25


def test_ranking_page_is_for_program_staff_only(client, call, reviewer, applicant):
    url = reverse("reviews:ranking", args=[call.slug])
    assert client.get(url).status_code == 302
    for user in (reviewer, applicant):
        sign_in(client, user)
        assert client.get(url).status_code == 403
