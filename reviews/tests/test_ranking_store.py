"""The stored ranking: the staff page shows what `rank_call` computes now, after any change
through any path, and computes it again only when something it reads changed."""

import threading
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from applications.models import Consortium, Dossier, Submission
from applications.services import set_status
from applications.tests.factories import CallFactory
from conftest import sign_in
from reviews import ranking_store
from reviews.models import Assignment, Criterion, RankedDossier, RankingStamp, Review, Score
from reviews.ranking import rank_call
from reviews.services import ScoreInput, assign_reviewer, save_review, unlock_review
from reviews.tasks import refresh_rankings_task
from reviews.tests.factories import ReviewerFactory
from reviews.tests.test_ranking import make_dossiers, review


def shown(client, call, **params) -> list[tuple]:
    response = client.get(reverse("reviews:ranking", args=[call.slug]), params)
    assert response.status_code == 200
    return [
        (
            line.dossier.reference,
            line.rank,
            line.calibrated,
            line.raw_mean,
            line.eliminated_by,
            line.disagreement,
            line.done,
            line.assigned,
        )
        for line in response.context["page"].object_list
    ]


def computed(call, order="calibrated", **filters) -> list[tuple]:
    return [
        (
            row.dossier.reference,
            row.rank,
            row.calibrated,
            row.raw_mean,
            row.eliminated_by,
            row.disagreement,
            row.done,
            row.assigned,
        )
        for row in rank_call(type(call).objects.get(pk=call.pk), order=order, filters=filters).rows[:100]
    ]


@pytest.fixture
def world(db, settings):
    """Eight dossiers seen by four reviewers (enough reviews each for a calibrated bias), one
    eliminatory criterion scored on every review."""
    settings.CALIBRATION_MIN_REVIEWS = 2
    call = CallFactory(disagreement_threshold=30)
    jobs = Criterion.objects.create(call=call, name="Emplois non délocalisables", scale_max=5, eliminatory_below=2)
    dossiers = make_dossiers(call, 8)
    Consortium.objects.filter(pk__in=[d.consortium_id for d in dossiers[:3]]).update(region="BRE")
    reviewers = [ReviewerFactory() for _ in range(4)]
    for index, dossier in enumerate(dossiers):
        for offset in (0, 1):
            made = review(reviewers[(index + offset) % 4], dossier, 40 + (index * 7 + offset * 13) % 50)
            Score.objects.create(review=made, criterion=jobs, value=3)
    return call, jobs, dossiers, reviewers


def test_the_page_follows_every_kind_of_change(client, program_staff, world):
    call, jobs, dossiers, _reviewers = world
    sign_in(client, program_staff)
    staff = program_staff
    first_review = Review.objects.filter(assignment__dossier=dossiers[0]).order_by("pk").first()
    newcomer = ReviewerFactory()

    def submit_a_review():
        assignment = assign_reviewer(dossiers[5], reviewer=newcomer, by=staff)
        save_review(
            assignment,
            scores=[ScoreInput(criterion_id=jobs.pk, value=5)],
            recommendation=Review.Recommendation.FUND,
            overall_comment="Très bon dossier.",
            by=newcomer,
            submit=True,
        )

    changes = [
        ("a reviewer is assigned", lambda: assign_reviewer(dossiers[7], reviewer=newcomer, by=staff)),
        ("a review is submitted", submit_a_review),
        ("a review is reopened", lambda: unlock_review(first_review, reason="Note à revoir.", by=staff)),
        (
            "an eliminatory score is changed",
            lambda: Score.objects.filter(review__assignment__dossier=dossiers[2]).update(value=1),
        ),
        ("a threshold is changed", lambda: Criterion.objects.filter(pk=jobs.pk).update(eliminatory_below=None)),
        (
            "a criterion is renamed",
            lambda: Criterion.objects.filter(pk=jobs.pk).update(name="Emplois", eliminatory_below=2),
        ),
        (
            "totals are rewritten in bulk",
            lambda: Review.objects.filter(assignment__dossier=dossiers[6]).update(weighted_total=Decimal("99")),
        ),
        (
            "a dossier is sent back to its team",
            lambda: set_status(
                Dossier.objects.get(pk=dossiers[1].pk), Dossier.Status.DRAFT, by=staff, reason="Pièce manquante."
            ),
        ),
        (
            "the disagreement threshold is changed",
            lambda: type(call).objects.filter(pk=call.pk).update(disagreement_threshold=5),
        ),
        (
            "an assignment and its review are deleted",
            lambda: (
                Review.objects.filter(assignment__reviewer=newcomer, assignment__dossier=dossiers[5]).delete(),
                Assignment.objects.filter(reviewer=newcomer, dossier=dossiers[5]).delete(),
            ),
        ),
    ]
    assert shown(client, call) == computed(call)
    for label, change in changes:
        before = computed(call)
        change()
        after = computed(call)
        assert after != before, f"{label}: the scenario should move the ranking"
        assert shown(client, call) == after, label
        assert shown(client, call, ordre="raw") == computed(call, order="raw"), label
        assert shown(client, call, region="BRE") == computed(call, region="BRE"), label


def test_ranks_within_a_filter_page_after_page(client, program_staff, world, monkeypatch):
    call, _jobs, _dossiers, _reviewers = world
    sign_in(client, program_staff)
    monkeypatch.setattr("reviews.views.RANKING_PAGE_SIZE", 3)
    for params in ({}, {"region": "BRE"}, {"ordre": "raw", "status": Dossier.Status.UNDER_REVIEW}):
        whole = computed(
            call, order=params.get("ordre", "calibrated"), **{k: v for k, v in params.items() if k != "ordre"}
        )
        pages = [shown(client, call, page=number, **params) for number in range(1, (len(whole) + 2) // 3 + 1)]
        assert [line for page in pages for line in page] == whole


def test_nothing_is_computed_again_until_something_changes(client, program_staff, world):
    call, jobs, dossiers, _reviewers = world
    sign_in(client, program_staff)
    shown(client, call)
    with CaptureQueriesContext(connection) as idle:
        shown(client, call)
    assert not any("reviews_review" in query["sql"] for query in idle.captured_queries)
    version = RankingStamp.objects.get(call_id=call.pk).version

    # A reviewer's draft, saved as often as the page autosaves, does not count: no new version.
    draft = assign_reviewer(dossiers[3], reviewer=ReviewerFactory(), by=program_staff)
    stamp_after_assignment = RankingStamp.objects.get(call_id=call.pk).version
    assert stamp_after_assignment == version + 1
    for value in (1, 2, 3):
        save_review(
            draft,
            scores=[ScoreInput(criterion_id=jobs.pk, value=value)],
            recommendation="",
            overall_comment="",
            by=draft.reviewer,
        )
    assert RankingStamp.objects.get(call_id=call.pk).version == stamp_after_assignment
    # An applicant's edits and a consortium's details do not either (the filters read them live).
    Dossier.objects.filter(pk=dossiers[0].pk).update(updated_at=timezone.now())
    Consortium.objects.filter(pk=dossiers[0].consortium_id).update(name="Pôle renommé")
    assert RankingStamp.objects.get(call_id=call.pk).version == stamp_after_assignment
    assert shown(client, call)[0][0] == computed(call)[0][0]


def test_the_calibration_settings_are_part_of_the_stored_version(client, program_staff, world, settings):
    call, *_ = world
    sign_in(client, program_staff)
    shown(client, call)
    settings.CALIBRATION_SHRINKAGE = 50.0
    assert shown(client, call) == computed(call)
    assert not ranking_store.fresh_ranking(call)


@pytest.mark.django_db(transaction=True)
def test_a_change_committed_during_a_computation_is_not_lost(client, program_staff):
    """A reviewer's submission still open while staff load the page: the page computes without
    it, and the commit makes the next view compute again (the stamp moves at commit, with it)."""
    call = CallFactory()
    dossiers = make_dossiers(call, 3)
    reviewer = ReviewerFactory()
    for index, dossier in enumerate(dossiers):
        review(reviewer, dossier, 50 + index)
    sign_in(client, program_staff)
    assert [line[0] for line in shown(client, call)] == ["T-0003", "T-0002", "T-0001"]

    changed, release = threading.Event(), threading.Event()

    def reviewer_session():
        try:
            with transaction.atomic():
                Review.objects.filter(assignment__dossier=dossiers[0]).update(weighted_total=Decimal("95"))
                changed.set()
                release.wait(30)
        finally:
            connection.close()

    thread = threading.Thread(target=reviewer_session)
    thread.start()
    assert changed.wait(30)
    # Uncommitted: not seen, and the page does not wait for it.
    assert [line[0] for line in shown(client, call)] == ["T-0003", "T-0002", "T-0001"]
    release.set()
    thread.join(30)
    assert [line[0] for line in shown(client, call)] == ["T-0001", "T-0003", "T-0002"]


def test_the_selection_console_reads_the_stored_lines_and_the_amounts_that_count(client, program_staff, world):
    call, _jobs, dossiers, _reviewers = world
    ranking = ranking_store.stored_ranking(call)
    assert [(line.dossier.reference, line.rank, line.calibrated, line.eliminated_by) for line in ranking.rows] == [
        (row.dossier.reference, row.rank, row.calibrated, row.eliminated_by) for row in rank_call(call).rows
    ]
    assert {line.dossier.reference: line.requested for line in ranking.rows}["T-0001"] == []

    # A new version that counts, with its own budget: the stored lines follow it.
    submission = Submission.objects.create(
        dossier=dossiers[0],
        version=1,
        reference="T-0001",
        submitted_at=timezone.now(),
        submitted_by=program_staff,
        content={"budget": {"requested": {"amounts": [50000, 40000, 30000]}}},
        content_sha256="0" * 64,
    )
    Dossier.objects.filter(pk=dossiers[0].pk).update(current_submission=submission)
    lines = {line.dossier.reference: line for line in ranking_store.stored_ranking(call).rows}
    assert lines["T-0001"].requested == [50000, 40000, 30000]

    sign_in(client, program_staff)
    response = client.get(reverse("awards:selection", args=[call.slug]))
    assert response.status_code == 200
    shown = {line.candidate.reference: line.candidate for line in response.context["lines"] if line.candidate}
    assert shown["T-0001"].requested == 120000
    assert shown["T-0001"].requested_by_year[:3] == (50000, 40000, 30000)


def test_beat_computes_a_stale_ranking_before_staff_come_back(client, program_staff, world):
    call, jobs, _dossiers, _reviewers = world
    other = CallFactory()  # never looked at: left alone
    make_dossiers(other, 2, start=50)
    sign_in(client, program_staff)
    shown(client, call)
    assert refresh_rankings_task() == 0  # nothing changed since the view

    Criterion.objects.filter(pk=jobs.pk).update(eliminatory_below=4)
    assert refresh_rankings_task() == 1
    assert not RankedDossier.objects.filter(call=other).exists()
    expected = computed(call)
    with CaptureQueriesContext(connection) as view:
        assert shown(client, call) == expected
    assert not any("reviews_review" in query["sql"] for query in view.captured_queries)
