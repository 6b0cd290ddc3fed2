"""Review totals and calibrated dossier scores that remove reviewer leniency.

Pure Python: plain tuples in, plain dataclasses out. "Not applicable" criteria are handled in
:func:`weighted_total`; the calibration only sees each review's total on a 0-100 scale.

Model
-----
``score(r, d) = mu + theta_d + b_r + noise``: ``theta_d`` is the dossier's merit, ``b_r`` the
reviewer's leniency (positive: lenient, negative: severe). ``mu + theta_d`` is fitted as one free
parameter ``alpha_d`` per dossier (so nothing needs pinning down there), while the biases are
shrunk toward 0 by a ridge penalty::

    minimise  sum over reviews (score - alpha_d - b_r)**2  +  shrinkage * sum over reviewers b_r**2

``shrinkage`` (lambda) weighs the penalty against squared residuals, which are in score units²,
so lambda itself is a plain ratio: the noise variance over the prior variance of the biases.
Read it as lambda "phantom reviews" with zero bias: a reviewer whose n reviews sit on average
``g`` points above their dossiers' other reviewers gets a bias of about ``g * n / (n + lambda)``.
With lambda = 1 and 3 reviews, 3/4 of the gap is trusted; lambda -> 0 trusts it entirely (the
biases are then fixed up to a common shift per connected group of reviewers, and the limit takes
the shift that makes them average 0); a large lambda brings back the raw means.

Reviewers with fewer than ``min_reviews`` reviews are not estimated: their bias is 0 and their
scores count as they are, as in the raw mean.

The calibrated score of a dossier is the mean over its reviews of ``score - b_r``. At the optimum
this is exactly the fitted ``alpha_d = mu + theta_d`` (the condition for alpha_d's derivative to
vanish), in any design, balanced or not; it stays on the 0-100 scale of the reviews, though it
may step slightly outside it for a dossier seen only by severe or lenient reviewers.

Solving: alpha is eliminated (alpha_d = mean of ``score - b`` over the dossier's reviews), which
leaves the normal equations ``(L + lambda * I) b = c`` over the estimated reviewers only, where
``L`` is the reviewer-by-reviewer Laplacian-like matrix of the review design. It is as small as
the number of reviewers and solved directly (exact to rounding, no iteration tolerance); with
lambda = 0 the minimum-norm solution is taken, which is the limit described above. The tests
check it against scipy's lsqr on the full augmented least-squares system.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import scipy.sparse as sp

CriterionId = TypeVar("CriterionId")


@dataclass(frozen=True)
class DossierScore:
    dossier_id: int
    reviews: int
    raw_mean: float
    calibrated: float  # mean over the reviews of (score - reviewer bias)
    spread: float  # max - min
    std: float  # population standard deviation of the scores (0 for one review)


@dataclass(frozen=True)
class ReviewerBias:
    reviewer_id: int
    reviews: int
    bias: float  # points added on average by this reviewer; 0 when not estimated
    estimated: bool  # False below min_reviews


@dataclass(frozen=True)
class Calibration:
    dossiers: dict[int, DossierScore]  # by dossier id, in id order
    reviewers: dict[int, ReviewerBias]  # by reviewer id, in id order


def calibrate(
    reviews: Iterable[tuple[int, int, float]], *, shrinkage: float = 1.0, min_reviews: int = 3
) -> Calibration:
    """Fit reviewer biases and calibrated dossier scores from ``(reviewer_id, dossier_id, score)``.

    Scores are review totals on 0-100; one review per reviewer and dossier. The result does not
    depend on the order of ``reviews``.
    """
    if not (shrinkage >= 0 and math.isfinite(shrinkage)):
        raise ValueError("shrinkage must be a finite number >= 0")
    rows = sorted((int(d), int(r), float(s)) for r, d, s in reviews)
    for d, r, s in rows:
        if not (0 <= s <= 100):
            raise ValueError(f"score {s} of reviewer {r} on dossier {d} is not within 0-100")
    if len({(d, r) for d, r, _ in rows}) != len(rows):
        raise ValueError("a reviewer may review a dossier only once")
    if not rows:
        return Calibration(dossiers={}, reviewers={})

    dossier_ids = sorted({d for d, _, _ in rows})
    reviewer_ids = sorted({r for _, r, _ in rows})
    d_index = {d: i for i, d in enumerate(dossier_ids)}
    r_index = {r: i for i, r in enumerate(reviewer_ids)}
    d_pos = np.array([d_index[d] for d, _, _ in rows])
    r_pos = np.array([r_index[r] for _, r, _ in rows])
    score = np.array([s for _, _, s in rows])

    per_dossier = np.bincount(d_pos, minlength=len(dossier_ids))
    per_reviewer = np.bincount(r_pos, minlength=len(reviewer_ids))
    raw_mean = np.bincount(d_pos, weights=score) / per_dossier

    bias = np.zeros(len(reviewer_ids))
    estimated = per_reviewer >= min_reviews
    if estimated.any():
        bias[estimated] = _fit_biases(d_pos, r_pos, score, raw_mean, per_dossier, estimated, shrinkage)

    adjusted = score - bias[r_pos]
    calibrated = np.bincount(d_pos, weights=adjusted) / per_dossier
    # Rows are sorted by dossier: each dossier's reviews are one contiguous run starting at `starts`
    # (reduceat, not a mask per dossier, which would be quadratic in the call's size).
    starts = np.flatnonzero(np.r_[True, d_pos[1:] != d_pos[:-1]])
    spread = np.maximum.reduceat(score, starts) - np.minimum.reduceat(score, starts)
    std = np.sqrt(np.bincount(d_pos, weights=(score - raw_mean[d_pos]) ** 2) / per_dossier)
    dossiers = {
        dossier_id: DossierScore(
            dossier_id=dossier_id,
            reviews=int(per_dossier[i]),
            raw_mean=float(raw_mean[i]),
            calibrated=float(calibrated[i]),
            spread=float(spread[i]),
            std=float(std[i]),
        )
        for i, dossier_id in enumerate(dossier_ids)
    }
    reviewers = {
        reviewer_id: ReviewerBias(
            reviewer_id=reviewer_id,
            reviews=int(per_reviewer[i]),
            bias=float(bias[i]),
            estimated=bool(estimated[i]),
        )
        for i, reviewer_id in enumerate(reviewer_ids)
    }
    return Calibration(dossiers=dossiers, reviewers=reviewers)


def _fit_biases(
    d_pos: np.ndarray,
    r_pos: np.ndarray,
    score: np.ndarray,
    raw_mean: np.ndarray,
    per_dossier: np.ndarray,
    estimated: np.ndarray,
    shrinkage: float,
) -> np.ndarray:
    """Solve ``(L + shrinkage * I) b = c`` for the estimated reviewers (others fixed at 0)."""
    columns = np.cumsum(estimated) - 1  # reviewer -> column among the estimated ones
    mine = estimated[r_pos]
    n_dossiers, n_free = len(per_dossier), int(estimated.sum())
    # Z[d, r] = 1 when estimated reviewer r reviewed dossier d.
    z = sp.csr_array((np.ones(int(mine.sum())), (d_pos[mine], columns[r_pos[mine]])), shape=(n_dossiers, n_free))
    shared = (z.T @ sp.diags_array(1.0 / per_dossier) @ z).toarray()
    laplacian = np.diag(np.asarray(z.sum(axis=0)).ravel()) - shared
    rhs = np.bincount(columns[r_pos[mine]], weights=(score - raw_mean[d_pos])[mine], minlength=n_free)
    if shrinkage > 0:
        return np.linalg.solve(laplacian + shrinkage * np.eye(n_free), rhs)
    return np.linalg.lstsq(laplacian, rhs, rcond=None)[0]


def disagreement(scores: Sequence[float], threshold: float) -> bool:
    """True when the reviewers of one dossier diverge: max - min of their scores exceeds ``threshold``."""
    return len(scores) > 1 and max(scores) - min(scores) > threshold


def weighted_total(
    scores: Mapping[CriterionId, float | None],
    weights: Mapping[CriterionId, float],
    scale_max: Mapping[CriterionId, float],
) -> float | None:
    """Weighted mean of the criterion scores, each brought to 0-100 by its scale maximum.

    A ``None`` score ("not applicable") is left out of both the sum and the total weight, never
    counted as zero. Return None when no criterion with a positive weight has a score. Every
    criterion of ``weights`` must appear in ``scores`` (as None when not applicable).
    """
    if set(scores) != set(weights) or not set(weights) <= set(scale_max):
        raise ValueError("scores, weights and scale_max must name the same criteria")
    total = weight_sum = 0.0
    for criterion, value in scores.items():
        weight, top = float(weights[criterion]), float(scale_max[criterion])
        if weight < 0 or top <= 0:
            raise ValueError(f"criterion {criterion}: weight must be >= 0 and scale maximum > 0")
        if value is None:
            continue
        value = float(value)
        if not (0 <= value <= top):
            raise ValueError(f"criterion {criterion}: score {value} is not within 0-{top:g}")
        total += weight * value / top * 100
        weight_sum += weight
    return total / weight_sum if weight_sum > 0 else None
