import pytest
from django.urls import reverse

from conftest import sign_in
from reviews import services
from reviews.models import Assignment, Conflict, Review, ReviewUnlock, Score
from reviews.tests.factories import ReviewerFactory, assignment, criteria_for, submitted_dossier


@pytest.fixture
def setup(db):
    mine = assignment()
    reviewer = mine.reviewer
    criteria = criteria_for(mine.dossier.call, not_applicable_on_last=True)
    other_dossier = submitted_dossier(call=mine.dossier.call, reference="PTCE-T-0002")
    theirs = assignment(reviewer=ReviewerFactory(), dossier=other_dossier)
    colleague_on_mine = assignment(reviewer=ReviewerFactory(), dossier=mine.dossier)
    return {"mine": mine, "reviewer": reviewer, "criteria": criteria, "theirs": theirs, "colleague": colleague_on_mine}


def evaluate_url(a):
    return reverse("admin:reviews_assignment_evaluate", args=[a.pk])


def scores_post(criteria, values, submit=False, recommendation="fund"):
    data = {"recommendation": recommendation, "overall_comment": "Projet solide."}
    for criterion, value in zip(criteria, values, strict=True):
        data[f"score_{criterion.pk}"] = value
        data[f"comment_{criterion.pk}"] = f"Commentaire {criterion.pk}"
    data["submit" if submit else "save"] = "1"
    return data


def test_a_changed_score_is_recorded_with_who_and_when(client, setup):
    mine, criteria = setup["mine"], setup["criteria"]
    services.confirm_no_conflict(mine, by=setup["reviewer"])
    sign_in(client, setup["reviewer"])

    client.post(evaluate_url(mine), scores_post(criteria, ["4", "2", ""]))
    client.post(evaluate_url(mine), scores_post(criteria, ["5", "2", ""]))

    changed = Score.objects.get(review__assignment=mine, criterion=criteria[0])
    assert list(changed.history.order_by("history_date").values_list("history_user", "value")) == [
        (setup["reviewer"].pk, 4),
        (setup["reviewer"].pk, 5),
    ]


def test_reviewer_list_shows_only_own_assignments_without_scores(client, setup):
    sign_in(client, setup["reviewer"])

    page = client.get(reverse("admin:reviews_assignment_changelist")).content.decode()

    assert "Mes évaluations" in page
    assert "PTCE-T-0001" in page
    assert "PTCE-T-0002" not in page
    assert "note pondérée" not in page
    assert setup["colleague"].reviewer.email not in page


def test_reviewer_cannot_sort_by_derived_columns(client, setup):
    sign_in(client, setup["reviewer"])
    response = client.get(reverse("admin:reviews_assignment_changelist") + "?o=5")
    assert response.status_code in (200, 302)
    assert "note pondérée" not in response.content.decode()


@pytest.mark.parametrize("url_name", ["evaluate", "change", "history", "pdf"])
def test_reviewer_gets_nothing_from_an_unassigned_dossier(client, setup, url_name):
    sign_in(client, setup["reviewer"])
    other = setup["theirs"]
    names = {
        "evaluate": "admin:reviews_assignment_evaluate",
        "change": "admin:reviews_assignment_change",
        "history": "admin:reviews_assignment_history",
        "pdf": "admin:reviews_assignment_pdf",
    }

    response = client.get(reverse(names[url_name], args=[other.pk]))

    assert response.status_code in (302, 403, 404)
    assert "PTCE-T-0002" not in response.content.decode()


def test_reviewer_has_no_access_to_reviews_at_all(client, setup):
    services.save_review(
        setup["colleague"], scores=[], recommendation="fund", overall_comment="secret", by=setup["colleague"].reviewer
    )
    sign_in(client, setup["reviewer"])

    review = Review.objects.get()
    for url in [
        reverse("admin:reviews_review_changelist"),
        reverse("admin:reviews_review_change", args=[review.pk]),
        reverse("admin:reviews_review_history", args=[review.pk]),
        reverse("admin:reviews_review_changelist") + "?q=secret",
    ]:
        assert client.get(url).status_code in (403, 404)


def test_reviewer_with_a_conflict_cannot_open_the_dossier_even_by_url(client, setup):
    mine = setup["mine"]
    Conflict.objects.create(reviewer=setup["reviewer"], dossier=mine.dossier, source=Conflict.Source.STAFF)
    sign_in(client, setup["reviewer"])

    assert client.get(evaluate_url(mine)).status_code == 404
    assert "PTCE-T-0001" not in client.get(reverse("admin:reviews_assignment_changelist")).content.decode()


def test_conflict_check_comes_before_the_content(client, setup):
    sign_in(client, setup["reviewer"])
    url = evaluate_url(setup["mine"])

    first = client.get(url).content.decode()
    assert "Avant d&#x27;ouvrir le dossier" in first or "Avant d'ouvrir le dossier" in first
    assert "Notation" not in first

    client.post(url, {"answer": "none"})
    setup["mine"].refresh_from_db()
    assert setup["mine"].no_conflict_confirmed_at is not None
    assert "Notation" in client.get(url).content.decode()


def test_declaring_a_conflict_from_the_check_removes_the_dossier(client, setup):
    sign_in(client, setup["reviewer"])

    response = client.post(
        evaluate_url(setup["mine"]), {"answer": "conflict", "reason": "Je préside une structure membre"}
    )

    assert response.status_code == 302
    assert not Assignment.objects.filter(pk=setup["mine"].pk).exists()
    assert Conflict.objects.get().source == Conflict.Source.DECLARED


def test_review_draft_then_submit_then_locked(client, setup):
    mine, criteria = setup["mine"], setup["criteria"]
    services.confirm_no_conflict(mine, by=setup["reviewer"])
    sign_in(client, setup["reviewer"])
    url = evaluate_url(mine)

    client.post(url, scores_post(criteria, ["4", "", ""]))
    review = Review.objects.get(assignment=mine)
    assert review.status == Review.Status.DRAFT

    refused = client.post(url, scores_post(criteria, ["4", "3", ""], submit=True))
    assert "Notez ce critère" in refused.content.decode()

    client.post(url, scores_post(criteria, ["4", "3", "na"], submit=True))
    review.refresh_from_db()
    assert review.status == Review.Status.SUBMITTED
    # (4/5*3 + 3/5*2) / (3+2) * 100 = 72: "not applicable" is left out, not counted as zero.
    assert review.weighted_total == 72

    client.post(url, scores_post(criteria, ["0", "0", "0"], submit=True))
    review.refresh_from_db()
    assert (review.status, review.weighted_total) == (Review.Status.SUBMITTED, 72)
    assert "verrouillée" in client.get(url).content.decode()


def test_staff_unlock_leaves_a_trace(client, setup, program_staff):
    mine = setup["mine"]
    services.save_review(mine, scores=[], recommendation="fund", overall_comment="", by=mine.reviewer)
    review = Review.objects.get()
    Review.objects.filter(pk=review.pk).update(status=Review.Status.SUBMITTED, submitted_at="2013-11-10T10:00:00Z")
    sign_in(client, program_staff)

    client.post(
        reverse("admin:reviews_review_changelist"),
        {"action": "unlock", "_selected_action": [review.pk], "apply": "1", "reason": "Note saisie par erreur"},
    )

    review.refresh_from_db()
    assert review.status == Review.Status.DRAFT
    unlock = ReviewUnlock.objects.get()
    assert (unlock.by, unlock.reason) == (program_staff, "Note saisie par erreur")
    assert review.history.first().history_user is None or review.history.count() >= 2


def test_every_change_to_a_review_is_recorded_with_who_and_when(client, setup):
    mine, criteria = setup["mine"], setup["criteria"]
    services.confirm_no_conflict(mine, by=setup["reviewer"])
    sign_in(client, setup["reviewer"])

    client.post(evaluate_url(mine), scores_post(criteria, ["4", "", ""]))
    client.post(evaluate_url(mine), scores_post(criteria, ["4", "3", "na"], submit=True))

    review = Review.objects.get(assignment=mine)
    # Creation of the draft, its first save, then the submission: each by the reviewer.
    assert list(review.history.order_by("history_date").values_list("history_user", "status")) == [
        (setup["reviewer"].pk, "draft"),
        (setup["reviewer"].pk, "draft"),
        (setup["reviewer"].pk, "submitted"),
    ]
