"""Query budgets of the reviewer and staff review pages (issue 8).

Same number of queries with 1 and 50 related rows (criteria and their scores, thread messages)
and with 10 and 500 rows for lists, under the ceilings: reviewer and staff pages 25, admin
changelists 30. Already covered elsewhere, not repeated here: the staff ranking
(test_ranking.test_ranking_page_runs_the_same_queries_at_10_and_500_dossiers) and the reviewer's
"Mes évaluations" list (test_assignment_page.test_reviewer_list_runs_the_same_queries_at_10_and_500).
See ptce_portal/tests/querybudget.py.
"""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from applications.models import Dossier, Membership, Submission
from applications.tests.factories import CallFactory
from conftest import sign_in
from ptce_portal.tests.querybudget import (
    ADMIN_CHANGELIST,
    APPLICANT_PAGE,
    STAFF_PAGE,
    assert_query_budget,
    expect_status,
)
from reviews.models import Assignment, Criterion, Message, Review, Score
from reviews.tests.factories import ReviewerFactory
from reviews.tests.test_ranking import make_dossiers

LISTS = (10, 500)


def scored_assignment(size: int, *, confirmed: bool = True) -> Assignment:
    """A reviewer's assignment on a submitted dossier whose call has `size` criteria, with a draft
    review scoring each of them and `size` messages in the dossier's thread."""
    call = CallFactory()
    criteria = Criterion.objects.bulk_create(
        [Criterion(call=call, name=f"Critère {n}", weight=1 + n % 3, scale_max=5, position=n) for n in range(size)]
    )
    (dossier,) = make_dossiers(call, 1, start=Dossier.objects.count() + 1)
    submission = Submission.objects.create(
        dossier=dossier,
        version=1,
        reference=dossier.reference,
        submitted_at=timezone.now() - dt.timedelta(days=3),
        submitted_by=dossier.consortium.created_by,
        content={"schema": 1, "attachments": [], "organisations": [], "sections": []},
        content_sha256="0" * 64,
    )
    Dossier.objects.filter(pk=dossier.pk).update(current_submission=submission)
    reviewer = ReviewerFactory()
    assignment = Assignment.objects.create(
        reviewer=reviewer, dossier=dossier, no_conflict_confirmed_at=timezone.now() if confirmed else None
    )
    review = Review.objects.create(assignment=assignment, overall_comment="En cours")
    Score.objects.bulk_create([Score(review=review, criterion=c, value=n % 6) for n, c in enumerate(criteria)])
    Message.objects.bulk_create(
        [
            Message(dossier=dossier, author=dossier.consortium.created_by, from_staff=n % 2 == 0, body=f"Réponse {n}")
            for n in range(size)
        ]
    )
    return assignment


def evaluate_url(assignment: Assignment) -> str:
    return reverse("admin:reviews_assignment_evaluate", args=[assignment.pk])


# --- Reviewer ---


def test_review_page(client, db):
    def prepare(size):
        assignment = scored_assignment(size)
        sign_in(client, assignment.reviewer)
        return lambda: expect_status(client.get(evaluate_url(assignment)), 200)

    assert_query_budget(prepare, ceiling=STAFF_PAGE, label="review page")


def review_data(assignment: Assignment, **extra) -> dict:
    """What the reviewer's form posts back: the stored scores, as the page shows them."""
    data = {"recommendation": "fund", "overall_comment": "Solide.", **extra}
    for score in Score.objects.filter(review__assignment=assignment):
        data[f"score_{score.criterion_id}"] = str(score.value)
        data[f"comment_{score.criterion_id}"] = score.comment
    return data


def test_review_save(client, db):
    # A draft saved again with one score changed, whatever the number of criteria of the grid:
    # only what changes is written (the first entry of N scores writes N rows, each with its
    # history and audit link: see the report of issue 8).
    def prepare(size):
        assignment = scored_assignment(size)
        sign_in(client, assignment.reviewer)
        data = review_data(assignment)
        first = Criterion.objects.filter(call=assignment.dossier.call_id).first()
        data[f"score_{first.pk}"], data[f"comment_{first.pk}"] = "5", "Revu à la hausse."
        url = evaluate_url(assignment)

        def save():
            response = expect_status(client.post(url, data), 302)
            assert response.url == url
            return response

        return save

    assert_query_budget(prepare, ceiling=STAFF_PAGE, label="review save")


def test_review_submit(client, db):
    def prepare(size):
        assignment = scored_assignment(size)
        sign_in(client, assignment.reviewer)
        data = review_data(assignment, submit="1")
        url = evaluate_url(assignment)

        def submit():
            expect_status(client.post(url, data), 302)
            assert Review.objects.get(assignment=assignment).status == Review.Status.SUBMITTED

        return submit

    assert_query_budget(prepare, ceiling=STAFF_PAGE, label="review submit")


def test_conflict_check_page(client, db):
    def prepare(size):
        assignment = scored_assignment(size, confirmed=False)
        sign_in(client, assignment.reviewer)
        return lambda: expect_status(client.get(evaluate_url(assignment)), 200)

    assert_query_budget(prepare, ceiling=STAFF_PAGE, label="conflict check")


# --- The clarification thread ---


def test_team_thread(client, db):
    """The pole's side of the thread: every message unread, marked read in one statement."""

    def prepare(size):
        dossier = scored_assignment(size).dossier
        owner = dossier.consortium.created_by
        Membership.objects.create(consortium=dossier.consortium, user=owner, role=Membership.Role.OWNER)
        sign_in(client, owner)
        url = reverse("reviews:team-thread", args=[dossier.pk])

        def read():
            expect_status(client.get(url), 200)
            assert not Message.objects.filter(dossier=dossier).exclude(read_by=owner).exists()

        return read

    assert_query_budget(prepare, ceiling=APPLICANT_PAGE, label="team thread")


def test_staff_thread(client, program_staff):
    def prepare(size):
        sign_in(client, program_staff)  # a fresh session for each size
        dossier = scored_assignment(size).dossier
        return lambda: expect_status(client.get(reverse("reviews:staff-thread", args=[dossier.pk])), 200)

    assert_query_budget(prepare, ceiling=STAFF_PAGE, label="staff thread")


# --- Staff ---


def reviewed_call(count: int):
    """A call with `count` dossiers under review, each assigned to one of three reviewers, who
    submitted half of them."""
    call = CallFactory()
    dossiers = make_dossiers(call, count, start=Dossier.objects.count() + 1)
    reviewers = [ReviewerFactory() for _ in range(3)]
    assignments = Assignment.objects.bulk_create(
        [Assignment(reviewer=reviewers[n % 3], dossier=d) for n, d in enumerate(dossiers)]
    )
    Review.objects.bulk_create(
        [
            Review(
                assignment=a,
                status=Review.Status.SUBMITTED if n % 2 else Review.Status.DRAFT,
                weighted_total=40 + n % 50,
                submitted_at=timezone.now() if n % 2 else None,
            )
            for n, a in enumerate(assignments)
        ]
    )
    return call


def test_progress_page(client, program_staff):
    def prepare(size):
        sign_in(client, program_staff)  # a fresh session for each size
        call = reviewed_call(size)
        return lambda: expect_status(client.get(reverse("reviews:progress", args=[call.slug])), 200)

    assert_query_budget(prepare, sizes=LISTS, ceiling=STAFF_PAGE, label="reviewer progress")


def test_assignment_page(client, program_staff):
    def prepare(size):
        sign_in(client, program_staff)  # a fresh session for each size
        call = reviewed_call(size)
        return lambda: expect_status(client.get(reverse("reviews:assignment", args=[call.slug])), 200)

    assert_query_budget(prepare, sizes=LISTS, ceiling=STAFF_PAGE, label="assignment page")


def test_staff_assignment_changelist(client, program_staff):
    def prepare(size):
        sign_in(client, program_staff)  # a fresh session for each size
        reviewed_call(size)
        return lambda: expect_status(client.get(reverse("admin:reviews_assignment_changelist")), 200)

    assert_query_budget(prepare, sizes=LISTS, ceiling=ADMIN_CHANGELIST, label="assignment changelist (staff)")


def test_review_changelist(client, program_staff):
    def prepare(size):
        sign_in(client, program_staff)  # a fresh session for each size
        reviewed_call(size)
        return lambda: expect_status(client.get(reverse("admin:reviews_review_changelist")), 200)

    assert_query_budget(prepare, sizes=LISTS, ceiling=ADMIN_CHANGELIST, label="review changelist")
