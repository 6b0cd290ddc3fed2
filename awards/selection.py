"""Envelope-aware selection of laureates: an exact 0-1 programme and what staff need to judge it.

Pure functions on plain dataclasses: no model, no database. The caller turns ranked dossiers into
`Candidate`s (score calibrated or raw, as the committee chose) and the call's rules into
`Constraints`; `propose()` returns the selection that maximises the total score.

The programme, with one binary x_i per candidate (1 = selected, amounts awarded = amounts requested):

    maximise   sum s_i x_i                          s_i = round(score_i * 1000), an exact integer
    subject to sum requested_i x_i        <= envelope
               sum x_i                    <= max_laureates
               sum requested_i,y x_i      <= year_limits[y]                    for each funding year y
               min_g <= sum_{i in g} x_i  <= max_g        for each region and each territorial priority g
               x_i = 1 for locked-in dossiers; x_i = 0 for locked-out, eliminated and unreviewed ones

Scores are scaled to integers so that "equal total score" is exact, and the solver runs with a zero
relative gap: a default MIP gap of 1e-4 would accept a selection 0.2 points short on a 2,000-point
total. Maximising a sum presumes non-negative scores (a negative score would be left out even with
money to spare), so they are refused: map calibrated z-scores back to the call's scale first.

Ties: among selections with the optimal total score, the one preferred by the published rank order
wins, lexicographically: the best-ranked dossier that can be in an optimal selection is in it, then
the next, and so on. One extra solve proves the optimum unique (the usual case); otherwise the
candidates are fixed one by one in rank order. The result never depends on the input order.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from applications.sections import format_euros

SCORE_SCALE = 1000
# Each solve is small (a few hundred binaries); the limit only guards a pathological instance.
SOLVER_OPTIONS = {"mip_rel_gap": 0.0, "time_limit": 60.0, "presolve": True}


class SelectionError(RuntimeError):
    """The solver failed, or returned a selection that breaks a constraint (a bug, never silent)."""


@dataclass(frozen=True)
class Candidate:
    id: int
    score: float | None  # None: not reviewed, never selected unless locked in
    requested: int  # euros, total over the funding years
    requested_by_year: tuple[int, ...] = ()
    region: str = ""
    territory_priority: str = ""
    eliminated: bool = False  # an eliminatory threshold was missed
    rank_key: tuple = ()  # the published tie-break order, e.g. (-score, -mean_raw, requested, submitted_at, reference)
    reference: str = ""


@dataclass(frozen=True)
class Constraints:
    envelope: int
    max_laureates: int | None = None
    min_per_region: dict[str, int] = field(default_factory=dict)
    max_per_region: dict[str, int] = field(default_factory=dict)
    min_per_priority: dict[str, int] = field(default_factory=dict)
    max_per_priority: dict[str, int] = field(default_factory=dict)
    year_limits: tuple[int, ...] | None = None  # per-year budget caps, in the order of requested_by_year
    locked_in: frozenset[int] = frozenset()
    locked_out: frozenset[int] = frozenset()
    year_labels: tuple[str, ...] = ()  # e.g. ("2014", "2015", "2016"), for messages only


@dataclass(frozen=True)
class Proposal:
    status: str  # "optimal" or "infeasible"
    selected: tuple[int, ...]  # in rank order
    total_score: float
    total_requested: int
    totals_by_year: tuple[int, ...]
    remaining: int  # envelope minus total requested
    reasons: tuple[str, ...]  # French, why no selection exists (empty when optimal)
    greedy: tuple[int, ...]  # greedy_by_rank(), in rank order
    greedy_score: float
    greedy_violations: tuple[str, ...]  # check() of the greedy selection: it may miss a minimum quota
    objective: int  # the optimal total in thousandths of a point (exact); 0 when infeasible

    @property
    def is_optimal(self) -> bool:
        return self.status == "optimal"

    @property
    def gain_over_greedy(self) -> float:
        """How many points the exact selection scores above the greedy one."""
        return round(self.total_score - self.greedy_score, 6)


# --- The published order and the checks ---


def _ranked(candidates: Iterable[Candidate]) -> list[Candidate]:
    # The id completes the order, so equal rank keys still give one answer whatever the input order.
    return sorted(candidates, key=lambda candidate: (candidate.rank_key, candidate.id))


def _scaled(score: float | None) -> int:
    return 0 if score is None else round(score * SCORE_SCALE)


def _label(candidate: Candidate) -> str:
    return candidate.reference or f"n° {candidate.id}"


def _year_label(constraints: Constraints, year: int) -> str:
    if year < len(constraints.year_labels):
        return str(constraints.year_labels[year])
    return f"de l'année {year + 1}"


def _laureates(count: int) -> str:
    return f"{count} lauréat" if count < 2 else f"{count} lauréats"


# (candidate attribute, minima field, maxima field, "la région X", "les minimums par région")
GROUPS = (
    ("region", "min_per_region", "max_per_region", "la région", "région"),
    ("territory_priority", "min_per_priority", "max_per_priority", "la priorité territoriale", "priorité territoriale"),
)


def check(selection: Sequence[int], candidates: Iterable[Candidate], constraints: Constraints) -> list[str]:
    """Every rule the selection breaks, in French; an empty list means it respects them all."""
    by_id = {candidate.id: candidate for candidate in candidates}
    problems = []
    problems += [f"Dossier inconnu : {i}." for i in selection if i not in by_id]
    if len(set(selection)) != len(selection):
        problems.append("Un dossier figure deux fois dans la sélection.")
    chosen = [by_id[i] for i in dict.fromkeys(selection) if i in by_id]
    chosen_ids = {candidate.id for candidate in chosen}
    for candidate in chosen:
        if candidate.eliminated:
            problems.append(f"Le dossier {_label(candidate)} n'atteint pas un seuil éliminatoire.")
        if candidate.score is None and candidate.id not in constraints.locked_in:
            problems.append(f"Le dossier {_label(candidate)} n'a pas été évalué.")
        if candidate.id in constraints.locked_out:
            problems.append(f"Le dossier {_label(candidate)} est exclu mais sélectionné.")
    for i in sorted(constraints.locked_in - chosen_ids):
        problems.append(f"Le dossier {_label(by_id[i]) if i in by_id else i} est imposé mais absent de la sélection.")
    total = sum(candidate.requested for candidate in chosen)
    if total > constraints.envelope:
        problems.append(
            f"La sélection dépasse l'enveloppe ({format_euros(total)} pour {format_euros(constraints.envelope)})."
        )
    if constraints.max_laureates is not None and len(chosen) > constraints.max_laureates:
        problems.append(f"La sélection compte {_laureates(len(chosen))} pour {constraints.max_laureates} au plus.")
    for year, limit in enumerate(constraints.year_limits or ()):
        spent = sum(_by_year(candidate, year) for candidate in chosen)
        if spent > limit:
            problems.append(
                f"Le plafond {_year_label(constraints, year)} est dépassé "
                f"({format_euros(spent)} pour {format_euros(limit)})."
            )
    for attribute, minima_name, maxima_name, noun, _per in GROUPS:
        minima, maxima = getattr(constraints, minima_name), getattr(constraints, maxima_name)
        for key in sorted(set(minima) | set(maxima)):
            count = sum(1 for candidate in chosen if getattr(candidate, attribute) == key)
            if count < minima.get(key, 0):
                problems.append(f"{noun.capitalize()} {key} compte {_laureates(count)} pour au moins {minima[key]}.")
            if key in maxima and count > maxima[key]:
                problems.append(f"{noun.capitalize()} {key} compte {_laureates(count)} pour {maxima[key]} au plus.")
    return problems


def _by_year(candidate: Candidate, year: int) -> int:
    return candidate.requested_by_year[year] if year < len(candidate.requested_by_year) else 0


# --- The greedy reference ---


def greedy_by_rank(candidates: Iterable[Candidate], constraints: Constraints) -> list[int]:
    """What a committee does by hand: imposed dossiers first, then the best-ranked dossiers of each
    group with a minimum quota until it is met, then down the ranked list, skipping any dossier that
    no longer fits (envelope, yearly caps, number of laureates, group maxima). The result may still
    break a rule (an unreachable quota, imposed dossiers over budget): check() says which."""
    ranked = _ranked(candidates)
    chosen = [candidate for candidate in ranked if candidate.id in constraints.locked_in]
    taken = {candidate.id for candidate in chosen}
    eligible = [
        candidate
        for candidate in ranked
        if candidate.id not in taken
        and candidate.id not in constraints.locked_out
        and not candidate.eliminated
        and candidate.score is not None
    ]

    def fits(candidate: Candidate) -> bool:
        trial = [*chosen, candidate]
        if constraints.max_laureates is not None and len(trial) > constraints.max_laureates:
            return False
        if sum(c.requested for c in trial) > constraints.envelope:
            return False
        for year, limit in enumerate(constraints.year_limits or ()):
            if sum(_by_year(c, year) for c in trial) > limit:
                return False
        for attribute, _minima, maxima_name, _noun, _per in GROUPS:
            key = getattr(candidate, attribute)
            maxima = getattr(constraints, maxima_name)
            if key in maxima and sum(1 for c in trial if getattr(c, attribute) == key) > maxima[key]:
                return False
        return True

    def take(candidate: Candidate) -> None:
        chosen.append(candidate)
        taken.add(candidate.id)

    for attribute, minima_name, _maxima, _noun, _per in GROUPS:
        for key, minimum in sorted(getattr(constraints, minima_name).items()):
            for candidate in eligible:
                if sum(1 for c in chosen if getattr(c, attribute) == key) >= minimum:
                    break
                if candidate.id not in taken and getattr(candidate, attribute) == key and fits(candidate):
                    take(candidate)
    for candidate in eligible:
        if candidate.id not in taken and fits(candidate):
            take(candidate)
    return [candidate.id for candidate in ranked if candidate.id in taken]


# --- The exact programme ---


@dataclass(frozen=True)
class _Row:
    family: str  # which rule, to explain an infeasible problem by relaxing one family at a time
    coefficients: np.ndarray
    low: float
    high: float


class _Problem:
    """The candidates in rank order, as arrays, with the constraint rows of the programme."""

    def __init__(self, candidates: Iterable[Candidate], constraints: Constraints) -> None:
        self.constraints = constraints
        self.items = _ranked(candidates)
        ids = [candidate.id for candidate in self.items]
        if len(set(ids)) != len(ids):
            raise ValueError("Two candidates share an id.")
        unknown = (constraints.locked_in | constraints.locked_out) - set(ids)
        if unknown:
            raise ValueError(f"Locked ids that are not candidates: {sorted(unknown)}.")
        for candidate in self.items:
            if candidate.score is not None and not (math.isfinite(candidate.score) and candidate.score >= 0):
                raise ValueError(f"Candidate {candidate.id}: scores must be finite and non-negative.")
            if candidate.requested < 0 or min(candidate.requested_by_year, default=0) < 0:
                raise ValueError(f"Candidate {candidate.id}: requested amounts must be non-negative.")
        years = len(constraints.year_limits or ())
        if constraints.year_limits is not None and any(len(c.requested_by_year) > years for c in self.items):
            raise ValueError("A candidate has more funding years than year_limits.")
        n = len(self.items)
        self.n = n
        self.weights = np.array([_scaled(c.score) for c in self.items], dtype=float)
        self.locked_in = np.array([c.id in constraints.locked_in for c in self.items], dtype=bool)
        self.locked_out = np.array([c.id in constraints.locked_out for c in self.items], dtype=bool)
        self.eliminated = np.array([c.eliminated for c in self.items], dtype=bool)
        reviewed = np.array([c.score is not None for c in self.items], dtype=bool)
        self.selectable = ~self.locked_out & ~self.eliminated & (reviewed | self.locked_in)
        self.lower = self.locked_in.astype(float)
        self.upper = self.selectable.astype(float) * ~self._dominated()
        self.rows = self._rows(years)
        self._matrices: dict[frozenset[str], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def _max_selected(self) -> int:
        """No feasible selection has more dossiers than this: the laureate cap, or how many of the
        cheapest selectable dossiers fit in the envelope together."""
        costs = np.sort(
            np.array([c.requested for c, ok in zip(self.items, self.selectable, strict=True) if ok], dtype=float)
        )
        fitting = int(np.searchsorted(np.cumsum(costs), self.constraints.envelope, side="right"))
        cap = self.constraints.max_laureates
        return fitting if cap is None else min(fitting, cap)

    def _dominated(self) -> np.ndarray:
        """Dossiers that no optimal selection preferred by the rank order can contain.

        Dossier j is dominated by d when d ranks before j, scores at least as much, requests no more
        in total nor in any funding year, shares j's region and territorial priority and is selectable. If j has
        more dominators than any selection can hold (M + 1, M = _max_selected()), every selection
        S holding j misses one of them, d, even with one more dossier forced in or out; swapping j
        for d keeps every rule (same groups, no more money in any year, same count), never lowers
        the score and is preferred by the rank order. So j can be left out of every solve, which
        shrinks a 10,000-dossier call to the few hundred that can matter. Locked-in dossiers stay.
        """
        dominated = np.zeros(self.n, dtype=bool)
        if self.n == 0:
            return dominated
        needed = self._max_selected() + 1
        years = max(len(c.requested_by_year) for c in self.items)
        costs = np.array(
            [[c.requested, *(_by_year(c, year) for year in range(years))] for c in self.items], dtype=float
        )
        groups: dict[tuple, list[int]] = {}
        for index, candidate in enumerate(self.items):
            groups.setdefault((candidate.region, candidate.territory_priority), []).append(index)
        for members in groups.values():
            members = np.array(members)  # in rank order
            weights, spend, usable = self.weights[members], costs[members], self.selectable[members]
            for position in range(needed, len(members)):
                j = members[position]
                if not self.selectable[j] or self.locked_in[j]:
                    continue
                before = slice(0, position)
                count = np.count_nonzero(
                    usable[before]
                    & (weights[before] >= weights[position])
                    & (spend[before] <= spend[position]).all(axis=1)
                )
                dominated[j] = count >= needed
        return dominated

    def _rows(self, years: int) -> list[_Row]:
        constraints, items = self.constraints, self.items
        requested = np.array([c.requested for c in items], dtype=float)
        rows = [_Row("envelope", requested, -np.inf, constraints.envelope)]
        if constraints.max_laureates is not None:
            rows.append(_Row("count", np.ones(self.n), -np.inf, constraints.max_laureates))
        for year, limit in enumerate(constraints.year_limits or ()):
            rows.append(_Row("years", np.array([_by_year(c, year) for c in items], dtype=float), -np.inf, limit))
        for attribute, minima_name, maxima_name, _noun, _per in GROUPS:
            minima, maxima = getattr(constraints, minima_name), getattr(constraints, maxima_name)
            for key in sorted(set(minima) | set(maxima)):
                members = np.array([getattr(c, attribute) == key for c in items], dtype=float)
                if minima.get(key, 0) > 0:
                    rows.append(_Row(minima_name, members, minima[key], np.inf))
                if key in maxima:
                    rows.append(_Row(maxima_name, members, -np.inf, maxima[key]))
        return rows

    def matrix(self, relax: frozenset[str] = frozenset()) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if relax not in self._matrices:
            rows = [row for row in self.rows if row.family not in relax]
            self._matrices[relax] = (
                np.array([row.coefficients for row in rows]).reshape(len(rows), self.n),
                np.array([row.low for row in rows], dtype=float),
                np.array([row.high for row in rows], dtype=float),
            )
        return self._matrices[relax]

    def solve(
        self,
        lower: np.ndarray,
        upper: np.ndarray,
        *,
        objective: np.ndarray | None = None,
        extra: Sequence[tuple[np.ndarray, float, float]] = (),
        relax: frozenset[str] = frozenset(),
    ) -> np.ndarray | None:
        """The 0/1 vector maximising `objective` (default: the scores), or None if infeasible."""
        matrix, low, high = self.matrix(relax)
        if extra:
            matrix = np.vstack([matrix, *(row[0] for row in extra)])
            low = np.concatenate([low, [row[1] for row in extra]])
            high = np.concatenate([high, [row[2] for row in extra]])
        if np.any(lower > upper) or np.any(matrix @ lower > high + 0.5):
            return None  # the forced dossiers alone break a bound: no need to ask the solver
        if self.n == 0:
            return np.zeros(0, dtype=np.int64) if np.all(low <= 0) else None
        result = milp(
            -(self.weights if objective is None else objective),
            integrality=np.ones(self.n),
            bounds=Bounds(lower, upper),
            constraints=LinearConstraint(matrix, low, high) if len(low) else None,
            options=SOLVER_OPTIONS,
        )
        if result.status == 2:
            return None
        if result.status != 0 or result.x is None:
            raise SelectionError(f"Le solveur n'a pas abouti : {result.message}")
        return np.round(result.x).astype(np.int64)

    def optimum(self, lower: np.ndarray, upper: np.ndarray) -> int | None:
        x = self.solve(lower, upper)
        return None if x is None else int(self.weights @ x)

    def dual_bound(self) -> tuple[float, np.ndarray]:
        """(D, r) such that every feasible x scores at most D + r·x, from the duals of the LP
        relaxation: weights·x = y·(Ax) + r·x <= y·b + r·x for any y >= 0. Any y gives a valid
        bound, so rounding noise in the duals can only loosen it, never make it wrong."""
        matrix, low, high = self.matrix()
        upper_rows, lower_rows = np.isfinite(high), np.isfinite(low)
        a_ub = np.vstack([matrix[upper_rows], -matrix[lower_rows]])
        b_ub = np.concatenate([high[upper_rows], -low[lower_rows]])
        result = linprog(
            -self.weights,
            A_ub=a_ub if len(b_ub) else None,
            b_ub=b_ub if len(b_ub) else None,
            bounds=np.column_stack([self.lower, self.upper]),
            method="highs",
        )
        if result.status != 0:
            return np.inf, np.zeros(self.n)
        duals = np.clip(-result.ineqlin.marginals, 0, None) if len(b_ub) else np.zeros(0)
        return float(duals @ b_ub), self.weights - duals @ a_ub

    def break_ties(self, x: np.ndarray) -> np.ndarray:
        """Among selections scoring as much as x, the one the published rank order prefers."""
        lower, upper = self.lower.copy(), self.upper.copy()
        if not ((lower == 0) & (upper == 1)).any():
            return x  # nothing left to choose
        best = float(self.weights @ x)
        at_best = (self.weights, best, np.inf)
        # A candidate whose flip would cost more than the LP bound allows keeps its value in every
        # optimal selection: fixing those first leaves few candidates for the solver to try.
        base, reduced = self.dual_bound()

        def bound(low: np.ndarray, up: np.ndarray) -> float:
            return base + float(np.maximum(reduced * low, reduced * up).sum())

        for i in np.flatnonzero((lower == 0) & (upper == 1)):
            flipped_low, flipped_up = lower.copy(), upper.copy()
            flipped_low[i] = flipped_up[i] = 1 - x[i]
            if bound(flipped_low, flipped_up) < best - 0.5:
                lower[i] = upper[i] = x[i]
        free = (lower == 0) & (upper == 1)
        # "Another optimal selection exists": it differs from x on at least one free candidate.
        differs = np.where(free, np.where(x == 1, -1.0, 1.0), 0.0)
        if (
            self.solve(lower, upper, objective=np.zeros(self.n), extra=[at_best, (differs, 1 - x[free].sum(), np.inf)])
            is None
        ):
            return x
        for i in np.flatnonzero(free):
            if x[i] == 1:
                lower[i] = 1
                continue
            trial = lower.copy()
            trial[i] = 1
            y = None if bound(trial, upper) < best - 0.5 else self.solve(trial, upper, extra=[at_best])
            if y is None:
                upper[i] = 0
            else:
                x, lower = y, trial
        return x

    def selection(self, x: np.ndarray) -> list[Candidate]:
        return [candidate for candidate, chosen in zip(self.items, x, strict=True) if chosen]


def _infeasibility_reasons(problem: _Problem) -> list[str]:
    """Why no selection exists, in French. The first checks are exact causes that need no solver;
    failing those, each family of rules is relaxed in turn to name the one that blocks."""
    constraints, items = problem.constraints, problem.items
    reasons = []
    forced = [c for c in items if c.id in constraints.locked_in]
    for candidate in forced:
        if candidate.id in constraints.locked_out:
            reasons.append(f"Le dossier {_label(candidate)} est à la fois imposé et exclu.")
        if candidate.eliminated:
            reasons.append(
                f"Le dossier {_label(candidate)} est imposé alors qu'il n'atteint pas un seuil éliminatoire."
            )
    total = sum(c.requested for c in forced)
    if total > constraints.envelope:
        reasons.append(
            f"Les dossiers imposés dépassent l'enveloppe ({format_euros(total)} pour "
            f"{format_euros(constraints.envelope)})."
        )
    if constraints.max_laureates is not None and len(forced) > constraints.max_laureates:
        reasons.append(
            f"Les dossiers imposés sont plus nombreux que les lauréats possibles "
            f"({len(forced)} pour {constraints.max_laureates} au plus)."
        )
    for year, limit in enumerate(constraints.year_limits or ()):
        spent = sum(_by_year(c, year) for c in forced)
        if spent > limit:
            reasons.append(
                f"Les dossiers imposés dépassent le plafond {_year_label(constraints, year)} "
                f"({format_euros(spent)} pour {format_euros(limit)})."
            )
    selectable = [c for c, ok in zip(items, problem.selectable, strict=True) if ok]
    for attribute, minima_name, maxima_name, noun, per in GROUPS:
        minima, maxima = getattr(constraints, minima_name), getattr(constraints, maxima_name)
        for key in sorted(set(minima) | set(maxima)):
            minimum, maximum = minima.get(key, 0), maxima.get(key)
            in_group = [c for c in selectable if getattr(c, attribute) == key]
            forced_here = sum(1 for c in forced if getattr(c, attribute) == key)
            if maximum is not None and minimum > maximum:
                reasons.append(f"Pour {noun} {key}, le minimum ({minimum}) dépasse le maximum ({maximum}).")
            elif maximum is not None and forced_here > maximum:
                reasons.append(
                    f"Les dossiers imposés dépassent le maximum pour {noun} {key} ({forced_here} pour {maximum})."
                )
            if minimum > len(in_group):
                available = (
                    f"{len(in_group)} dossier éligible" if len(in_group) < 2 else f"{len(in_group)} dossiers éligibles"
                )
                reasons.append(f"{noun.capitalize()} {key} exige au moins {_laureates(minimum)} pour {available}.")
        required = sum(minima.values())
        if constraints.max_laureates is not None and required > constraints.max_laureates:
            reasons.append(
                f"Les minimums par {per} totalisent {_laureates(required)} pour {constraints.max_laureates} au plus."
            )
        # Groups are disjoint: the cheapest way to meet every minimum is a lower bound on the cost.
        cheapest = sum(c.requested for c in forced)
        for key, minimum in minima.items():
            forced_here = [c for c in forced if getattr(c, attribute) == key]
            others = sorted(c.requested for c in selectable if getattr(c, attribute) == key and c not in forced_here)
            cheapest += sum(others[: max(0, minimum - len(forced_here))])
        if minima and cheapest > constraints.envelope:
            reasons.append(
                f"Respecter les minimums par {per} coûte au moins {format_euros(cheapest)} "
                f"pour une enveloppe de {format_euros(constraints.envelope)}."
            )
    if reasons:
        return reasons
    families = {
        "envelope": "l'enveloppe",
        "count": "le nombre maximal de lauréats",
        "years": "les plafonds annuels",
        "min_per_region": "les minimums par région",
        "max_per_region": "les maximums par région",
        "min_per_priority": "les minimums par priorité territoriale",
        "max_per_priority": "les maximums par priorité territoriale",
    }
    present = {row.family for row in problem.rows}
    for family, label in families.items():
        if (
            family in present
            and problem.solve(problem.lower, problem.selectable.astype(float), relax=frozenset({family})) is not None
        ):
            reasons.append(f"Aucune sélection ne respecte toutes les règles ; sans {label}, une sélection existe.")
    if not reasons and problem.locked_in.any() and problem.solve(np.zeros(problem.n), problem.upper) is not None:
        reasons.append(
            "Aucune sélection ne respecte toutes les règles avec les dossiers imposés ; sans eux, une sélection existe."
        )
    return reasons or [
        "Aucune sélection ne respecte à la fois l'enveloppe, les quotas, les plafonds et les dossiers imposés."
    ]


def _score(selection: Iterable[Candidate]) -> float:
    return math.fsum(candidate.score or 0.0 for candidate in selection)


def propose(candidates: Iterable[Candidate], constraints: Constraints) -> Proposal:
    """The selection with the highest total score that respects every constraint, ties broken by
    the published rank order; or, when none exists, the reasons in French. Raises SelectionError
    if the solver's answer fails check(), which would be a bug here, not a property of the data."""
    candidates = list(candidates)
    problem = _Problem(candidates, constraints)
    greedy = greedy_by_rank(candidates, constraints)
    by_id = {candidate.id: candidate for candidate in candidates}
    greedy_part = {
        "greedy": tuple(greedy),
        "greedy_score": _score(by_id[i] for i in greedy),
        "greedy_violations": tuple(check(greedy, candidates, constraints)),
    }
    years = max([len(constraints.year_limits or ())] + [len(c.requested_by_year) for c in candidates])
    x = problem.solve(problem.lower, problem.upper)
    if x is None:
        return Proposal(
            status="infeasible",
            selected=(),
            total_score=0.0,
            total_requested=0,
            totals_by_year=(0,) * years,
            remaining=constraints.envelope,
            reasons=tuple(_infeasibility_reasons(problem)),
            objective=0,
            **greedy_part,
        )
    x = problem.break_ties(x)
    chosen = problem.selection(x)
    selected = [candidate.id for candidate in chosen]
    violations = check(selected, candidates, constraints)
    if violations:
        raise SelectionError("La sélection calculée enfreint une règle : " + " ".join(violations))
    total = sum(candidate.requested for candidate in chosen)
    return Proposal(
        status="optimal",
        selected=tuple(selected),
        total_score=_score(chosen),
        total_requested=total,
        totals_by_year=tuple(sum(_by_year(c, year) for c in chosen) for year in range(years)),
        remaining=constraints.envelope - total,
        reasons=(),
        objective=int(problem.weights @ x),
        **greedy_part,
    )


def marginal_costs(
    candidates: Iterable[Candidate],
    constraints: Constraints,
    proposal: Proposal,
    *,
    ids: Iterable[int] | None = None,
) -> dict[int, float | None]:
    """For each candidate, how the optimal total score changes if it is forced in (not selected)
    or out (selected): one re-solve each, the forcing replacing any lock on that dossier. None when
    the forced problem has no solution (always for an eliminated dossier forced in) or when the
    proposal itself is infeasible. `ids` restricts the work, e.g. to the dossiers near the cut."""
    problem = _Problem(candidates, constraints)
    wanted = None if ids is None else set(ids)
    selected = set(proposal.selected)
    costs: dict[int, float | None] = {}
    for i, candidate in enumerate(problem.items):
        if wanted is not None and candidate.id not in wanted:
            continue
        if not proposal.is_optimal or (candidate.id not in selected and candidate.eliminated):
            costs[candidate.id] = None
            continue
        lower, upper = problem.lower.copy(), problem.upper.copy()
        lower[i] = upper[i] = 0 if candidate.id in selected else 1
        optimum = problem.optimum(lower, upper)
        costs[candidate.id] = None if optimum is None else (optimum - proposal.objective) / SCORE_SCALE
    return costs


def ties_at_cut(candidates: Iterable[Candidate], proposal: Proposal, near: float = 0.5) -> list[list[int]]:
    """Groups of dossiers whose scores lie within `near` points of the cut (the score of the last
    selected dossier in rank order) and that straddle it: some selected, some not. Inside the band,
    dossiers are chained by score (a new group starts after a gap wider than `near`), so near=0
    gives exact ties only. Eliminated and unreviewed dossiers take no part. Ids in rank order."""
    ranked = _ranked(candidates)
    by_id = {candidate.id: candidate for candidate in ranked}
    scored = [by_id[i] for i in proposal.selected if by_id[i].score is not None]
    if not scored:
        return []
    cut = scored[-1].score
    tolerance = near + 0.5 / SCORE_SCALE
    band = [c for c in ranked if c.score is not None and not c.eliminated and abs(c.score - cut) <= tolerance]
    band.sort(key=lambda c: -c.score)  # stable: rank order within equal scores
    groups: list[list[Candidate]] = []
    for candidate in band:
        if groups and groups[-1][-1].score - candidate.score <= tolerance:
            groups[-1].append(candidate)
        else:
            groups.append([candidate])
    selected = set(proposal.selected)
    rank = {candidate.id: position for position, candidate in enumerate(ranked)}
    return [
        sorted((c.id for c in group), key=rank.__getitem__)
        for group in groups
        if any(c.id in selected for c in group) and any(c.id not in selected for c in group)
    ]


# --- A verifiable draw, for ties the rank order cannot break ---


def _draw_key(seed: str, candidate_id: int) -> str:
    return hashlib.sha256(f"{seed}:{candidate_id}".encode()).hexdigest()


def verifiable_draw(candidate_ids: Iterable[int], seed: str) -> tuple[list[int], str]:
    """The order of a draw and the commitment to publish BEFORE it (SHA-256 of the seed).

    The seed stays secret until the draw, then is published: anyone can recompute the order
    (sorted by SHA-256 of "seed:id") and check the commitment. Use a random seed
    (secrets.token_hex(16)): a guessable one could be found from its commitment in advance."""
    order = sorted(candidate_ids, key=lambda candidate_id: (_draw_key(seed, candidate_id), candidate_id))
    return order, hashlib.sha256(seed.encode()).hexdigest()


def verify_draw(order: Sequence[int], seed: str, commitment: str) -> bool:
    """True if the seed matches the commitment published beforehand and gives exactly this order."""
    expected_order, expected_commitment = verifiable_draw(order, seed)
    return (
        hmac.compare_digest(expected_commitment, commitment.strip().lower())
        and len(set(order)) == len(order)
        and list(order) == expected_order
    )
