import datetime as dt
import hashlib
import random
import statistics
from collections import Counter

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import transaction

from accounts.models import User
from applications.calls import ensure_ptce_call
from applications.clock import local_instant
from applications.models import Attachment, Call, Dossier, Submission
from applications.sections import SECTION_FORMS
from applications.services import build_snapshot, content_hash, has_unsubmitted_changes, missing_items
from applications.sirets import luhn_ok, validate_siret
from applications.uploads import inspect_upload
from demo.dataset import (
    REQUESTED_MAX,
    REQUESTED_MIN,
    check_plan,
    generate_dataset,
    leniency,
    minimal_pdf,
    plan_dossier,
    random_siret,
    requested_total,
)
from reviews.calibration import calibrate
from reviews.models import Assignment, Criterion, Review
from reviews.ranking import rank_call
from reviews.services import compute_weighted_total

OPENS = local_instant(dt.datetime(2013, 7, 15))
CLOSES = local_instant(dt.datetime(2013, 10, 31))


@pytest.fixture
def call(db):
    call, _ = ensure_ptce_call(
        slug="jeu-de-test",
        title="Jeu de test",
        reference_prefix="TEST-2013",
        opens_at=OPENS,
        closes_at=CLOSES,
        first_funding_year=2014,
    )
    return call


def submission_hashes(call: Call) -> list[str]:
    return sorted(Submission.objects.filter(dossier__call=call).values_list("content_sha256", flat=True))


# --- Pure parts: no database ---


def test_generated_sirets_pass_the_check_and_have_a_valid_siren():
    rng = random.Random(1)
    for _ in range(500):
        siret = random_siret(rng)
        validate_siret(siret)
        assert luhn_ok(siret[:9])


def test_requested_totals_stay_within_the_real_range_and_center_near_120_keur():
    rng = random.Random(2)
    totals = [requested_total(rng) for _ in range(2000)]

    assert (min(totals) >= REQUESTED_MIN, max(totals) <= REQUESTED_MAX) == (True, True)
    assert 110_000 <= statistics.median(totals) <= 135_000


def test_minimal_pdf_is_recognised_as_a_pdf_by_its_content():
    content = minimal_pdf("Statuts de la structure porteuse (é)")

    info = inspect_upload(SimpleUploadedFile("statuts.pdf", content), max_bytes=10_000)

    assert (info.content_type, info.size < 1000) == ("application/pdf", True)


def test_plans_have_valid_sections_and_follow_a_deadline_rush():
    call = Call(opens_at=OPENS, closes_at=CLOSES, funding_years=3, first_funding_year=2014, reference_prefix="X")
    plans = [plan_dossier(call, seed=3, index=index, tag="x", end=CLOSES) for index in range(1, 301)]

    for plan in plans:
        check_plan(call, plan)  # raises on an invalid section
    before = [CLOSES - plan.submitted_at for plan in plans]
    assert all(OPENS < plan.submitted_at < CLOSES for plan in plans)
    last_day = sum(delta <= dt.timedelta(days=1) for delta in before) / len(plans)
    last_hours = sum(delta <= dt.timedelta(hours=6) for delta in before) / len(plans)
    assert 0.35 <= last_day <= 0.6
    assert last_hours >= 0.3
    assert sorted({len(plan.organisations) for plan in plans}) == [2, 3, 4, 5, 6, 7, 8]
    assert sum(plan.organisations[0]["is_lead"] for plan in plans) == len(plans)
    assert len({plan.sections["resume"]["summary"] for plan in plans}) == len(plans)
    assert {form.key for form in SECTION_FORMS} == set(plans[0].sections)


def test_the_same_seed_and_index_give_the_same_plan():
    call = Call(opens_at=OPENS, closes_at=CLOSES, funding_years=3, first_funding_year=2014, reference_prefix="X")

    first = plan_dossier(call, seed=4, index=7, tag="x", end=CLOSES)
    again = plan_dossier(call, seed=4, index=7, tag="x", end=CLOSES)
    other = plan_dossier(call, seed=5, index=7, tag="x", end=CLOSES)

    assert first == again
    assert first.sections != other.sections


# --- Written to the database ---


def test_every_dossier_is_submitted_complete_numbered_and_hashed(call, media):
    summary = generate_dataset(call=call, dossiers=12, reviewers=4, seed=7, reviews_done=0.5)

    dossiers = list(
        Dossier.objects.filter(call=call).select_related("call", "consortium", "current_submission").order_by("number")
    )
    assert (summary.dossiers, summary.reviewers, summary.assignments) == (12, 4, 24)
    assert [dossier.number for dossier in dossiers] == list(range(1, 13))
    assert [dossier.reference for dossier in dossiers] == [f"TEST-2013-{n:04d}" for n in range(1, 13)]
    assert Call.objects.get(pk=call.pk).last_dossier_number == 12
    times = [dossier.current_submission.submitted_at for dossier in dossiers]
    assert times == sorted(times)
    assert all(OPENS < moment < CLOSES for moment in times)
    for dossier in dossiers:
        submission = dossier.current_submission
        assert dossier.status == Dossier.Status.UNDER_REVIEW
        assert submission.content_sha256 == content_hash(submission.content)
        assert submission.content == build_snapshot(dossier)
        assert missing_items(dossier) == []
        assert has_unsubmitted_changes(dossier) is False
        assert REQUESTED_MIN <= submission.content["budget"]["requested"]["total"] <= REQUESTED_MAX
        kinds = {organisation["kind"] for organisation in submission.content["organisations"]}
        assert len(kinds) >= 2


def test_attachments_are_stored_files_whose_hash_is_recorded_and_without_reviewers_dossiers_stay_submitted(call, media):
    generate_dataset(call=call, dossiers=3, reviewers=0, seed=8)

    assert set(Dossier.objects.filter(call=call).values_list("status", flat=True)) == {Dossier.Status.SUBMITTED}
    attachments = list(Attachment.objects.filter(dossier__call=call))
    assert len(attachments) == 3 * call.attachment_types.filter(required=True).count()
    for attachment in attachments:
        with attachment.file.open("rb") as stored:
            content = stored.read()
        assert (hashlib.sha256(content).hexdigest(), len(content)) == (attachment.sha256, attachment.size)
        assert content.startswith(b"%PDF-")


def test_every_dossier_gets_k_reviewers_and_the_share_of_reviews_done_holds(call, media):
    generate_dataset(call=call, dossiers=12, reviewers=4, reviews_per_dossier=2, seed=9, reviews_done=0.5)

    per_dossier = Counter(Assignment.objects.filter(dossier__call=call).values_list("dossier_id", flat=True))
    assert sorted(per_dossier.values()) == [2] * 12
    reviews = list(Review.objects.filter(assignment__dossier__call=call).prefetch_related("scores"))
    assert len(reviews) == 12
    criteria = {criterion.pk: criterion for criterion in Criterion.objects.filter(call=call)}
    for review in reviews:
        assert review.status == Review.Status.SUBMITTED
        assert review.weighted_total == compute_weighted_total(review, criteria)
        assert len(review.scores.all()) == len(criteria)


def test_calibration_recovers_the_reviewers_leniency(call, media):
    generate_dataset(call=call, dossiers=40, reviewers=8, reviews_per_dossier=3, seed=10)

    rows = list(
        Review.objects.filter(assignment__dossier__call=call).values_list(
            "assignment__reviewer_id", "assignment__dossier_id", "weighted_total", "assignment__reviewer__email"
        )
    )
    fitted = calibrate(
        [(reviewer, dossier, float(total)) for reviewer, dossier, total, _email in rows],
        shrinkage=settings.CALIBRATION_SHRINKAGE,
        min_reviews=settings.CALIBRATION_MIN_REVIEWS,
    )
    emails = {reviewer: email for reviewer, _dossier, _total, email in rows}
    drawn = [leniency(10, emails[reviewer]) for reviewer in fitted.reviewers]
    estimated = [bias.bias for bias in fitted.reviewers.values()]
    assert statistics.correlation(drawn, estimated) > 0.8


def test_the_same_seed_gives_the_same_contents_on_an_empty_database(call, media):
    def generate(seed: int) -> list[str]:
        with transaction.atomic():
            generate_dataset(call=call, dossiers=8, reviewers=3, seed=seed)
            hashes = submission_hashes(call)
            transaction.set_rollback(True)
        return hashes

    first = generate(11)
    again = generate(11)
    other = generate(12)

    assert len(set(first)) == 8
    assert again == first
    assert set(other) & set(first) == set()


def test_command_creates_a_closed_call_and_prints_the_summary(db, media, capsys):
    call_command("generate_dataset", "--dossiers", "6", "--reviewers", "3", "--seed", "5", "--reviews-done", "0.5")

    output = capsys.readouterr().out
    call = Call.objects.get(slug="jeu-de-donnees-5")
    assert (call.title, call.reference_prefix, call.closed_at) == ("Jeu de données 5", "DATA-5", call.closes_at)
    assert "dossiers déposés 6" in output
    assert "évaluations remises 6" in output
    assert "Terminé en" in output
    with pytest.raises(CommandError):
        call_command("generate_dataset", "--dossiers", "6", "--reviewers", "3", "--seed", "5")


def test_load_demo_twice_gives_a_reviewed_2013_call_with_a_ranking(db, media):
    call_command("load_demo")
    call_command("load_demo")

    call = Call.objects.get(slug="ptce-2013")
    dossiers = Dossier.objects.filter(call=call)
    assert dossiers.count() == 60
    assert set(dossiers.values_list("status", flat=True)) == {Dossier.Status.UNDER_REVIEW}
    reviewers = set(Assignment.objects.filter(dossier__call=call).values_list("reviewer__email", flat=True))
    assert reviewers == {"evaluateur@demo.ptce.fr"} | {f"evaluateur{n}@demo.ptce.fr" for n in range(1, 9)}
    assert User.objects.filter(email__startswith="evaluateur", reviewer_profile__isnull=False).count() == 9
    assert Assignment.objects.filter(dossier__call=call).count() == 120
    assert Review.objects.filter(assignment__dossier__call=call, status=Review.Status.SUBMITTED).count() == 102
    demo_reviewer = Assignment.objects.filter(dossier__call=call, reviewer__email="evaluateur@demo.ptce.fr")
    assert demo_reviewer.filter(review__isnull=True).count() >= 2
    ranking = rank_call(call)
    ranked = [row for row in ranking.rows if row.rank is not None]
    assert len(ranked) >= 50
    assert any(abs(row.calibrated - row.raw_mean) > 0.5 for row in ranked)
