"""Calibrated scores, reviewer biases, review totals and disagreement flags (no database)."""

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse import csr_array, vstack
from scipy.sparse.linalg import lsqr

from reviews.calibration import DossierScore, ReviewerBias, calibrate, disagreement, weighted_total

LENIENT, SEVERE, NEUTRAL = 1, 2, 3
A, B, C, D = 10, 11, 12, 13
TRUE_SCORE = {A: 70.0, B: 66.0, C: 50.0, D: 40.0}
TRUE_BIAS = {LENIENT: 10.0, SEVERE: -10.0, NEUTRAL: 0.0}
# Connected, unbalanced design: A is never seen by the lenient reviewer, B never by the severe one,
# so the raw means put B (71) before A (65).
DESIGN = {LENIENT: [B, C, D], SEVERE: [A, C, D], NEUTRAL: [A, B, D]}


def design_reviews():
    return [(r, d, TRUE_SCORE[d] + TRUE_BIAS[r]) for r, dossiers in DESIGN.items() for d in dossiers]


def test_raw_means_misorder_the_design():
    result = calibrate(design_reviews())

    assert {d: s.raw_mean for d, s in result.dossiers.items()} == {A: 65.0, B: 71.0, C: 50.0, D: 40.0}


def test_without_shrinkage_the_true_scores_and_biases_are_recovered():
    result = calibrate(design_reviews(), shrinkage=0.0)

    assert [result.dossiers[d].calibrated for d in (A, B, C, D)] == pytest.approx([70, 66, 50, 40], abs=1e-9)
    assert [result.reviewers[r].bias for r in (LENIENT, SEVERE, NEUTRAL)] == pytest.approx([10, -10, 0], abs=1e-9)


def test_tiny_shrinkage_tends_to_the_exact_fit():
    result = calibrate(design_reviews(), shrinkage=1e-6)

    assert [result.dossiers[d].calibrated for d in (A, B, C, D)] == pytest.approx([70, 66, 50, 40], abs=1e-4)


def test_unit_shrinkage_pulls_biases_toward_zero_by_hand_computation():
    # Eliminating the dossier terms leaves (L + lambda*I) b = c with, for this design,
    # L = 5/2 I - 5/6 J and c = L b_true = 5/2 b_true (b_true sums to 0), so b = b_true * 2.5 / (2.5 + lambda):
    # lambda = 1 gives +-50/7. Each dossier's calibrated score is its true score plus the mean, over its
    # reviewers, of (b_true - b): A (severe, neutral) 70 - 10/7, B (lenient, neutral) 66 + 10/7.
    result = calibrate(design_reviews(), shrinkage=1.0)

    assert [result.reviewers[r].bias for r in (LENIENT, SEVERE, NEUTRAL)] == pytest.approx([50 / 7, -50 / 7, 0])
    assert [result.dossiers[d].calibrated for d in (A, B, C, D)] == pytest.approx([70 - 10 / 7, 66 + 10 / 7, 50, 40])
    assert sorted(result.dossiers, key=lambda d: -result.dossiers[d].calibrated) == [A, B, C, D]


def test_calibrated_score_is_the_mean_of_bias_corrected_reviews():
    result = calibrate(design_reviews(), shrinkage=1.0)

    for dossier_id, summary in result.dossiers.items():
        corrected = [s - result.reviewers[r].bias for r, d, s in design_reviews() if d == dossier_id]
        assert summary.calibrated == pytest.approx(sum(corrected) / len(corrected))


def test_dossier_summary_fields():
    result = calibrate(design_reviews())

    # D: lenient 50, severe 30, neutral 40.
    assert result.dossiers[D] == DossierScore(
        dossier_id=D,
        reviews=3,
        raw_mean=40.0,
        calibrated=pytest.approx(40.0),
        spread=20.0,
        std=pytest.approx(np.sqrt(200 / 3)),
    )
    assert result.dossiers[A].std == pytest.approx(5.0)


def test_reviewer_with_too_few_reviews_gets_no_bias_and_counts_raw():
    occasional = 4
    reviews = [*design_reviews(), (occasional, C, 90.0), (occasional, D, 80.0)]

    result = calibrate(reviews, shrinkage=0.0, min_reviews=3)

    assert result.reviewers[occasional] == ReviewerBias(reviewer_id=occasional, reviews=2, bias=0.0, estimated=False)
    assert result.reviewers[LENIENT].estimated
    corrected_c = [60 - result.reviewers[LENIENT].bias, 40 - result.reviewers[SEVERE].bias, 90.0]
    assert result.dossiers[C].calibrated == pytest.approx(sum(corrected_c) / 3)


def test_every_reviewer_below_the_minimum_gives_raw_means():
    result = calibrate(design_reviews(), min_reviews=4)

    assert {r: b.bias for r, b in result.reviewers.items()} == {LENIENT: 0.0, SEVERE: 0.0, NEUTRAL: 0.0}
    assert {d: s.calibrated for d, s in result.dossiers.items()} == {d: s.raw_mean for d, s in result.dossiers.items()}


def test_output_does_not_depend_on_input_order():
    reviews = design_reviews()
    shuffled = reviews[:]
    random.Random(7).shuffle(shuffled)

    assert calibrate(shuffled) == calibrate(reviews)
    assert list(calibrate(shuffled).dossiers) == [A, B, C, D]


def test_empty_input_gives_empty_calibration():
    result = calibrate([])

    assert (result.dossiers, result.reviewers) == ({}, {})


@pytest.mark.parametrize(
    ("reviews", "shrinkage"),
    [
        ([(1, 10, 101.0)], 1.0),
        ([(1, 10, float("nan"))], 1.0),
        ([(1, 10, 50.0), (1, 10, 60.0)], 1.0),
        ([(1, 10, 50.0)], -1.0),
    ],
)
def test_bad_input_is_refused(reviews, shrinkage):
    with pytest.raises(ValueError):  # noqa: PT011 - several distinct messages
        calibrate(reviews, shrinkage=shrinkage)


def augmented_lsqr(reviews, shrinkage):
    """Independent fit: lsqr on [dossier one-hot | sqrt(lambda) reviewer one-hot] with every reviewer estimated."""
    dossiers = sorted({d for _, d, _ in reviews})
    reviewers = sorted({r for r, _, _ in reviews})
    n, n_d, n_r = len(reviews), len(dossiers), len(reviewers)
    rows = np.repeat(np.arange(n), 2)
    cols = np.array([c for r, d, _ in reviews for c in (dossiers.index(d), n_d + reviewers.index(r))])
    design = csr_array((np.ones(2 * n), (rows, cols)), shape=(n, n_d + n_r))
    penalty = csr_array(
        (np.full(n_r, np.sqrt(shrinkage)), (np.arange(n_r), n_d + np.arange(n_r))), shape=(n_r, n_d + n_r)
    )
    target = np.concatenate([[s for _, _, s in reviews], np.zeros(n_r)])
    solution = lsqr(vstack([design, penalty]), target, atol=1e-14, btol=1e-14, iter_lim=100_000)[0]
    return dict(zip(dossiers, solution[:n_d], strict=True)), dict(zip(reviewers, solution[n_d:], strict=True))


review_sets = st.lists(
    st.tuples(st.integers(1, 6), st.integers(100, 108), st.floats(0, 100, allow_nan=False)),
    min_size=1,
    max_size=40,
    unique_by=lambda t: (t[0], t[1]),
)


@settings(max_examples=60, deadline=None)
@given(reviews=review_sets, shrinkage=st.sampled_from([0.5, 1.0, 4.0]))
def test_direct_solution_matches_lsqr_on_the_augmented_system(reviews, shrinkage):
    result = calibrate(reviews, shrinkage=shrinkage, min_reviews=0)
    alpha, bias = augmented_lsqr(reviews, shrinkage)

    assert {r: b.bias for r, b in result.reviewers.items()} == pytest.approx(bias, abs=1e-6)
    assert {d: s.calibrated for d, s in result.dossiers.items()} == pytest.approx(alpha, abs=1e-6)


@settings(max_examples=60, deadline=None)
@given(reviews=review_sets, shrinkage=st.sampled_from([0.0, 1.0]), min_reviews=st.integers(0, 4))
def test_properties_on_generated_reviews(reviews, shrinkage, min_reviews):
    shuffled = reviews[::-1]

    result = calibrate(reviews, shrinkage=shrinkage, min_reviews=min_reviews)

    assert calibrate(shuffled, shrinkage=shrinkage, min_reviews=min_reviews) == result
    for reviewer in result.reviewers.values():
        assert reviewer.estimated == (reviewer.reviews >= min_reviews)
        if not reviewer.estimated:
            assert reviewer.bias == 0.0
    for dossier_id, summary in result.dossiers.items():
        own = [s for _, d, s in reviews if d == dossier_id]
        assert (summary.reviews, summary.spread) == (len(own), max(own) - min(own))
        assert summary.raw_mean == pytest.approx(sum(own) / len(own))


def test_weighted_total_leaves_not_applicable_out():
    weights = {1: 3, 2: 2, 3: 1}
    scale = {1: 5, 2: 5, 3: 10}

    total = weighted_total({1: 4, 2: 3, 3: None}, weights, scale)

    # (3 * 80 + 2 * 60) / (3 + 2) = 72; counting "not applicable" as 0 would give 360 / 6 = 60.
    assert total == pytest.approx(72.0)


def test_weighted_total_with_every_criterion_scored():
    total = weighted_total({"a": 5, "b": 0, "c": 7.5}, {"a": 1, "b": 1, "c": 2}, {"a": 5, "b": 5, "c": 10})

    assert total == pytest.approx((100 + 0 + 2 * 75) / 4)


def test_weighted_total_is_none_when_nothing_applies():
    assert weighted_total({1: None, 2: None}, {1: 1, 2: 1}, {1: 5, 2: 5}) is None


@pytest.mark.parametrize(
    ("scores", "weights", "scale"),
    [
        ({1: 6}, {1: 1}, {1: 5}),
        ({1: -1}, {1: 1}, {1: 5}),
        ({1: 3}, {1: 1, 2: 1}, {1: 5, 2: 5}),
        ({1: 3}, {1: 1}, {1: 0}),
    ],
)
def test_weighted_total_refuses_inconsistent_input(scores, weights, scale):
    with pytest.raises(ValueError):  # noqa: PT011 - several distinct messages
        weighted_total(scores, weights, scale)


@pytest.mark.parametrize(
    ("scores", "expected"),
    [([40.0, 75.0], True), ([40.0, 70.0], False), ([55.0], False), ([], False), ([50.0, 20.0, 45.0], False)],
)
def test_disagreement_when_spread_exceeds_threshold(scores, expected):
    assert disagreement(scores, threshold=30.0) is expected
