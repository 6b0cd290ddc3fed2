"""Exact, deterministic assignment of reviewers to dossiers.

Pure Python: plain dataclasses in, plain dataclasses out; the reviews app maps its models onto
them and saves the result.

Rules (hard constraints)
------------------------
* every dossier ends with ``k`` reviewers whenever possible;
* no reviewer receives a new dossier beyond their capacity;
* no reviewer on a dossier where they declared or were found to have a conflict;
* no reviewer twice on the same dossier;
* existing assignments are kept as they are and count toward ``k`` and toward the capacity; they
  are never removed, except an existing pair that is a conflict, which is dropped and reported;
* with ``require_outside_region``: a dossier that receives new reviewers and reaches ``k``
  reviewers has at least one reviewer whose ``home_region`` differs from the dossier's region
  (an empty ``home_region`` is unknown and never counts as outside).
  Put differently, one place of each such dossier is reserved for an outside reviewer: reviewers
  of the dossier's own region may fill the other places only. When no outside reviewer can take
  the reserved place, that place stays empty and the dossier is reported as uncovered with the
  reason, rather than filled by one more reviewer of its region.

Objective (lexicographic, solved exactly)
-----------------------------------------
1. cover as many (dossier, place) pairs as possible;
2. balance the loads (existing + new): minimise the sum of squared loads. Achievable load vectors
   of maximum flows form an integral base polyhedron, on which a minimiser of the sum of squares
   is exactly a *decreasingly minimal* vector (Frank & Murota, "Discrete decreasing
   minimization", 2022): it minimises the largest load, then the number of reviewers carrying
   it, and so on; loads differ by at most one wherever conflicts and capacities allow it;
3. prefer expertise: a cost of 2 when the reviewer's declared sectors miss every sector of the
   dossier, plus 1 when the dossier's region is not among the reviewer's declared regions;
4. break the remaining ties by a deterministic perturbation ``(reviewer rank + dossier rank) mod
   number of reviewers`` (ranks by id), so each dossier has its own rotation of preferred
   reviewers and few ties, if any, are left to the (deterministic) solver.

Formulation
-----------
A min-cost flow: source -> reviewer through unit arcs (the j-th extra dossier of a reviewer with
``e`` existing ones costs ``2(e + j) - 1``, the marginal cost of ``load**2``) -> dossier (one arc
of capacity 1 per allowed pair, so nobody is twice on a dossier and conflicts have no arc) ->
sink (capacity: places still open). The outside-region rule needs no lower bound: reviewers of
the dossier's region reach it through an intermediate node whose arc has capacity ``open - 1``.
Everything is a network matrix, so every linear-programming vertex is integral.

Why not one MILP or ``networkx.network_simplex`` with weighted costs: lexicographic weights need
costs around 1e15 at 2,000 x 100, which floating point solvers cannot honour exactly, and
networkx's pure-Python network simplex takes about 45 s at that size. Instead:

* tier 1: ``scipy.sparse.csgraph.maximum_flow`` (integers) gives the maximum coverage ``F``;
* tier 2: a linear program (HiGHS, interior point + crossover, so a vertex) with flow value ``F``
  and the load costs only (small integers), on a network where dossiers interchangeable for the
  loads (same open places, same candidate reviewers) share one node: ten times smaller at
  2,000 x 100, and any flaw in that shortcut is caught by the next step's check;
* the optimal dual potentials are rounded to integers and complementary slackness is checked in
  exact integer arithmetic: this proves optimality. The set of tier-2 optimal flows is then
  exactly the flows that respect those potentials: arcs of positive reduced cost are removed,
  arcs of negative reduced cost are fixed full;
* tiers 3 and 4 (expertise, then perturbation, merged with exact integer weights small enough for
  floating point) are solved on that restricted network and certified the same way.

Should a certificate fail, tier 2 is solved again on the full network, and failing that, the whole
problem with networkx's exact integer network simplex on the combined lexicographic cost: slow,
but exact. About 2 s at 2,000 x 100 on two cores otherwise.
Inputs are sorted by id first, so the same input, in any order, gives the same output. The
result is then checked by :func:`verify`; an assignment that breaks a rule is never returned.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Literal, NamedTuple

import networkx as nx
import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog
from scipy.sparse.csgraph import maximum_flow

Pair = tuple[int, int]  # (reviewer_id, dossier_id)

_NO_SECTOR_COST = 2
_NO_REGION_COST = 1
_MAX_EXPERTISE_COST = _NO_SECTOR_COST + _NO_REGION_COST


@dataclass(frozen=True)
class Dossier:
    id: int
    region: str
    sectors: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Reviewer:
    id: int
    capacity: int
    home_region: str
    regions: frozenset[str] = frozenset()  # declared expertise
    sectors: frozenset[str] = frozenset()


@dataclass(frozen=True)
class AssignmentProblem:
    dossiers: Sequence[Dossier]
    reviewers: Sequence[Reviewer]
    conflicts: Collection[Pair] = frozenset()
    existing: Collection[Pair] = frozenset()
    k: int = 2
    require_outside_region: bool = False


class Uncovered(NamedTuple):
    dossier_id: int
    missing: int
    reason: str  # French, shown to program staff


@dataclass(frozen=True)
class AssignmentResult:
    new_pairs: list[Pair]  # sorted
    kept_pairs: list[Pair]  # existing pairs kept, sorted
    rejected_pairs: list[Pair]  # existing pairs dropped because they are conflicts, sorted
    loads: dict[int, int]  # reviewer id -> kept + new dossiers, every reviewer
    uncovered: list[Uncovered]  # sorted by dossier id
    calibration_connected: bool
    components: int  # connected components of the reviewer-dossier graph (0 when empty)
    notes: list[str]  # French: existing data breaking a rule, left as it is


class AssignmentError(RuntimeError):
    """The solver produced an assignment that breaks a rule (never expected)."""


def assign_reviewers(
    problem: AssignmentProblem, *, solver: Literal["highs", "network_simplex"] = "highs"
) -> AssignmentResult:
    """Assign reviewers so that every dossier reaches ``problem.k`` reviewers when possible.

    Solves the lexicographic objective described in the module docstring exactly, checks every
    hard rule with :func:`verify` and raises :class:`AssignmentError` rather than return an
    assignment that breaks one. ``solver="network_simplex"`` skips the linear programs and uses
    networkx's exact integer solver directly (slower; used to cross-check).
    """
    data = _Data(problem)
    net = _Network(data)
    flow = _solve(data, net, solver)
    chosen = flow[net.pair_arcs] > 0
    new_pairs = sorted(
        (data.reviewers[r].id, data.dossiers[d].id)
        for r, d in zip(net.pair_reviewer[chosen], net.pair_dossier[chosen], strict=True)
    )
    result = _build_result(data, new_pairs)
    problems = verify(result, problem)
    if problems:
        raise AssignmentError("; ".join(problems))
    return result


def verify(result: AssignmentResult, problem: AssignmentProblem) -> list[str]:
    """Return every broken rule of ``result`` for ``problem`` (French messages); empty when fine."""
    errors: list[str] = []
    dossiers = {d.id: d for d in problem.dossiers}
    reviewers = {r.id: r for r in problem.reviewers}
    conflicts = set(problem.conflicts)
    existing = set(problem.existing)
    kept = existing - conflicts

    if result.kept_pairs != sorted(kept):
        errors.append("Les affectations existantes conservées ne correspondent pas aux affectations sans conflit.")
    if result.rejected_pairs != sorted(existing & conflicts):
        errors.append("Les affectations existantes retirées ne correspondent pas aux conflits d'intérêts.")
    if result.new_pairs != sorted(set(result.new_pairs)):
        errors.append("Les nouvelles affectations ne sont pas triées ou contiennent des doublons.")
    for reviewer_id, dossier_id in result.new_pairs:
        if reviewer_id not in reviewers or dossier_id not in dossiers:
            errors.append(f"Affectation ({reviewer_id}, {dossier_id}) : évaluateur ou dossier inconnu.")
        if (reviewer_id, dossier_id) in conflicts:
            errors.append(f"L'évaluateur {reviewer_id} a un conflit d'intérêts sur le dossier {dossier_id}.")
        if (reviewer_id, dossier_id) in existing:
            errors.append(f"L'évaluateur {reviewer_id} est déjà affecté au dossier {dossier_id}.")

    final = kept | set(result.new_pairs)
    new_by_dossier = Counter(d for _, d in result.new_pairs)
    new_by_reviewer = Counter(r for r, _ in result.new_pairs)
    on_dossier: dict[int, list[int]] = defaultdict(list)
    for reviewer_id, dossier_id in final:
        on_dossier[dossier_id].append(reviewer_id)

    loads = Counter(r for r, _ in final)
    if result.loads != {r: loads[r] for r in reviewers}:
        errors.append("Les charges annoncées ne correspondent pas aux affectations.")
    for reviewer_id, reviewer in reviewers.items():
        if new_by_reviewer[reviewer_id] and loads[reviewer_id] > reviewer.capacity:
            errors.append(
                f"L'évaluateur {reviewer_id} dépasse sa capacité ({loads[reviewer_id]} pour {reviewer.capacity})."
            )

    expected_uncovered = {}
    for dossier_id, dossier in dossiers.items():
        count = len(on_dossier[dossier_id])
        if new_by_dossier[dossier_id] and count > problem.k:
            errors.append(f"Le dossier {dossier_id} a {count} évaluateurs pour {problem.k} requis.")
        if count < problem.k:
            expected_uncovered[dossier_id] = problem.k - count
        if (
            problem.require_outside_region
            and new_by_dossier[dossier_id]
            and count >= problem.k
            and not any(_is_outside(reviewers[r], dossier) for r in on_dossier[dossier_id] if r in reviewers)
        ):
            errors.append(f"Le dossier {dossier_id} n'a aucun évaluateur hors de la région {dossier.region}.")
    if {u.dossier_id: u.missing for u in result.uncovered} != expected_uncovered or any(
        not u.reason for u in result.uncovered
    ):
        errors.append("La liste des dossiers incomplets ne correspond pas aux affectations.")
    if [u.dossier_id for u in result.uncovered] != sorted(expected_uncovered):
        errors.append("La liste des dossiers incomplets n'est pas triée.")

    components = _components(final)
    if (result.components, result.calibration_connected) != (components, components == 1):
        errors.append("La connexité du graphe évaluateurs-dossiers est mal renseignée.")
    return errors


# --- Input normalisation ---


class _Data:
    """The problem sorted by id, validated, with the quantities every step needs."""

    def __init__(self, problem: AssignmentProblem):
        if problem.k < 1:
            raise ValueError("k must be at least 1")
        self.problem = problem
        self.k = problem.k
        self.dossiers = sorted(problem.dossiers, key=lambda d: d.id)
        self.reviewers = sorted(problem.reviewers, key=lambda r: r.id)
        self.d_index = {d.id: i for i, d in enumerate(self.dossiers)}
        self.r_index = {r.id: i for i, r in enumerate(self.reviewers)}
        if len(self.d_index) != len(self.dossiers) or len(self.r_index) != len(self.reviewers):
            raise ValueError("dossier and reviewer ids must be unique")
        if any(r.capacity < 0 for r in self.reviewers):
            raise ValueError("capacities must not be negative")
        self.conflicts = set(problem.conflicts)
        existing = set(problem.existing)
        for reviewer_id, dossier_id in existing:
            if reviewer_id not in self.r_index or dossier_id not in self.d_index:
                raise ValueError(f"existing pair ({reviewer_id}, {dossier_id}) names an unknown reviewer or dossier")
        self.kept = sorted(existing - self.conflicts)
        self.rejected = sorted(existing & self.conflicts)

        n_r, n_d = len(self.reviewers), len(self.dossiers)
        self.kept_matrix = np.zeros((n_r, n_d), dtype=bool)
        self.conflict_matrix = np.zeros((n_r, n_d), dtype=bool)
        for reviewer_id, dossier_id in self.kept:
            self.kept_matrix[self.r_index[reviewer_id], self.d_index[dossier_id]] = True
        for reviewer_id, dossier_id in self.conflicts:
            if reviewer_id in self.r_index and dossier_id in self.d_index:
                self.conflict_matrix[self.r_index[reviewer_id], self.d_index[dossier_id]] = True

        self.capacity = np.array([r.capacity for r in self.reviewers], dtype=np.int64)
        self.existing_load = self.kept_matrix.sum(axis=1).astype(np.int64)
        self.remaining = np.maximum(self.capacity - self.existing_load, 0)
        self.kept_count = self.kept_matrix.sum(axis=0).astype(np.int64)
        self.open_places = np.maximum(self.k - self.kept_count, 0)

        region_codes: dict[str, int] = {"": -1}
        home = np.array([region_codes.setdefault(r.home_region, len(region_codes)) for r in self.reviewers])
        where = np.array([region_codes.setdefault(d.region, len(region_codes)) for d in self.dossiers])
        self.outside = np.zeros((n_r, n_d), bool)
        if n_r and n_d:
            self.outside = (home.reshape(-1, 1) != where.reshape(1, -1)) & (home >= 0).reshape(-1, 1)
        # Free of conflict, not already there, with room: a reviewer who could take the dossier.
        self.available = ~self.conflict_matrix & ~self.kept_matrix & (self.remaining > 0).reshape(-1, 1)
        has_outside = (self.kept_matrix & self.outside).any(axis=0)
        self.reserve = problem.require_outside_region & (self.open_places > 0) & ~has_outside

    def expertise_cost(self) -> np.ndarray:
        """Reviewer x dossier cost: 2 without a shared sector, + 1 without the declared region."""
        sectors = sorted({s for r in self.reviewers for s in r.sectors} | {s for d in self.dossiers for s in d.sectors})
        regions = sorted({g for r in self.reviewers for g in r.regions} | {d.region for d in self.dossiers})
        s_code = {s: i for i, s in enumerate(sectors)}
        g_code = {g: i for i, g in enumerate(regions)}
        r_sec = np.zeros((len(self.reviewers), len(sectors)), dtype=np.int64)
        d_sec = np.zeros((len(self.dossiers), len(sectors)), dtype=np.int64)
        r_reg = np.zeros((len(self.reviewers), len(regions)), dtype=bool)
        for i, r in enumerate(self.reviewers):
            r_sec[i, [s_code[s] for s in r.sectors]] = 1
            r_reg[i, [g_code[g] for g in r.regions]] = True
        for j, d in enumerate(self.dossiers):
            d_sec[j, [s_code[s] for s in d.sectors]] = 1
        shared_sector = (r_sec @ d_sec.T) > 0
        declared_region = r_reg[:, [g_code[d.region] for d in self.dossiers]]
        return _NO_SECTOR_COST * ~shared_sector + _NO_REGION_COST * ~declared_region


# --- Network ---


class _Network:
    """Arcs of the flow network as parallel arrays; node ``sink`` is the last one.

    With ``grouped``, dossiers that are interchangeable for the loads (same open places, same
    reservation, same candidate reviewers on the same side of the reservation) share one node whose
    capacities are multiplied by the group size: a much smaller network for tier 2 with the same
    optimal loads and potentials (a group's flow can always be dealt back over its dossiers
    round-robin, and :func:`_solve_staged` proves the result on the full network anyway).
    Preference costs are only defined on the full network.
    """

    def __init__(self, data: _Data, *, grouped: bool = False):
        n_r, n_d = len(data.reviewers), len(data.dossiers)
        open_places = data.open_places
        candidate = data.available & (open_places > 0).reshape(1, -1)
        # Only a reviewer from outside the region can take the reserved place of a dossier.
        inside = ~data.outside & data.reserve.reshape(1, -1)
        candidate &= ~(inside & (open_places <= 1).reshape(1, -1))
        reserved = data.reserve & (open_places > 1)

        if grouped:
            keys: dict[tuple, int] = {}
            group_of = np.array(
                [
                    keys.setdefault(
                        (int(open_places[j]), bool(reserved[j]), candidate[:, j].tobytes(), inside[:, j].tobytes()),
                        len(keys),
                    )
                    for j in range(n_d)
                ],
                dtype=np.int64,
            )
        else:
            group_of = np.arange(n_d)
        n_g = int(group_of.max(initial=-1)) + 1
        members = np.bincount(group_of, minlength=n_g)
        first = np.zeros(n_g, np.int64)
        first[group_of[::-1]] = np.arange(n_d)[::-1]  # first dossier of each group

        source = 0
        reviewer_node = 1 + np.arange(n_r)
        group_node = 1 + n_r + np.arange(n_g)
        reserved_g = np.flatnonzero(reserved[first])
        inside_node = np.full(n_g, -1)
        inside_node[reserved_g] = 1 + n_r + n_g + np.arange(len(reserved_g))
        self.sink = 1 + n_r + n_g + len(reserved_g)
        self.n_nodes = self.sink + 1
        self.source = source
        # Node of the full network -> node of this one (identity when not grouped).
        self.full_to_here = np.concatenate(
            [
                np.arange(1 + n_r),
                group_node[group_of],
                inside_node[group_of[reserved]],
                [self.sink],
            ]
        ).astype(np.int64)

        # Unit arcs source -> reviewer: no reviewer can use more than its candidate dossiers.
        units = np.minimum(data.remaining, candidate.sum(axis=1))
        unit_r = np.repeat(np.arange(n_r), units)
        unit_j = np.concatenate([np.arange(1, u + 1) for u in units]) if n_r else np.zeros(0, np.int64)
        unit_cost = 2 * (data.existing_load[unit_r] + unit_j) - 1

        r_idx, g_idx = np.nonzero(candidate[:, first])  # row-major: sorted by reviewer, then dossier
        pair_head = group_node[g_idx]
        via_inside = inside[r_idx, first[g_idx]] & (inside_node[g_idx] >= 0)
        pair_head[via_inside] = inside_node[g_idx[via_inside]]
        open_g = np.flatnonzero(open_places[first] > 0)
        places = open_places[first] * members
        parts = [
            # tail, head, capacity, load cost
            (np.full(len(unit_r), source), reviewer_node[unit_r], np.ones(len(unit_r)), unit_cost),
            (reviewer_node[r_idx], pair_head, members[g_idx], 0),
            (inside_node[reserved_g], group_node[reserved_g], places[reserved_g] - members[reserved_g], 0),
            (group_node[open_g], np.full(len(open_g), self.sink), places[open_g], 0),
        ]
        n_arcs = [len(p[0]) for p in parts]
        self.tail = np.concatenate([p[0] for p in parts]).astype(np.int64)
        self.head = np.concatenate([p[1] for p in parts]).astype(np.int64)
        self.cap = np.concatenate([p[2] for p in parts]).astype(np.int64)
        self.load_cost = np.concatenate([np.broadcast_to(p[3], n) for p, n in zip(parts, n_arcs, strict=True)]).astype(
            np.int64
        )
        self.pair_arcs = np.arange(n_arcs[0], n_arcs[0] + n_arcs[1])
        self.pair_reviewer, self.pair_dossier = r_idx, g_idx  # dossier index when not grouped
        if not grouped:
            # Tier 4 (jitter) summed over at most `max_pairs` arcs stays below one unit of tier 3.
            max_pairs = int(open_places.sum())
            jitter = (r_idx + g_idx) % max(n_r, 1)
            self.pref_cost = np.zeros(len(self.tail), np.int64)
            self.pref_cost[self.pair_arcs] = data.expertise_cost()[r_idx, g_idx] * (max_pairs * max(n_r - 1, 0) + 1)
            self.pref_cost[self.pair_arcs] += jitter

    def max_flow_value(self) -> int:
        if not len(self.tail):
            return 0
        graph = sp.csr_array(
            (self.cap.astype(np.int32), (self.tail.astype(np.int32), self.head.astype(np.int32))),
            shape=(self.n_nodes, self.n_nodes),
        )  # parallel unit arcs are summed, which is what a capacity means
        return int(maximum_flow(graph, self.source, self.sink).flow_value)

    def incidence(self, arcs: np.ndarray) -> sp.csc_array:
        """Node-arc matrix without the sink row (the sink's potential is 0)."""
        n = len(arcs)
        rows = np.concatenate([self.tail[arcs], self.head[arcs]])
        cols = np.concatenate([np.arange(n), np.arange(n)])
        vals = np.concatenate([np.ones(n), -np.ones(n)])
        keep = rows != self.sink
        return sp.csc_array((vals[keep], (rows[keep], cols[keep])), shape=(self.sink, n))


# --- Solving ---


class _Uncertified(Exception):
    pass


def _solve(data: _Data, net: _Network, solver: str) -> np.ndarray:
    """Flow per arc of ``net``, optimal for the lexicographic objective."""
    flow_value = net.max_flow_value()
    if flow_value == 0:
        return np.zeros(len(net.tail), np.int64)
    if solver == "highs":
        coarse = _Network(data, grouped=True)
        for tier2_net in (coarse, net) if len(coarse.tail) < len(net.tail) else (net,):
            try:
                return _solve_staged(net, tier2_net, flow_value)
            except _Uncertified:
                continue
    elif solver != "network_simplex":
        raise ValueError(f"unknown solver {solver!r}")
    return _solve_network_simplex(net, flow_value)


def _solve_staged(net: _Network, tier2_net: _Network, flow_value: int) -> np.ndarray:
    """Tier 2 on ``tier2_net`` (``net`` or its grouped form), then tiers 3-4 on ``net``.

    The tier-2 potentials, proven optimal on ``tier2_net`` by complementary slackness, restrict
    ``net`` to the flows that keep complementary slackness with them: arcs of positive reduced
    cost are removed, arcs of negative reduced cost fixed full. When the tier-3 program on what
    remains is feasible, its flow is feasible for ``net`` and keeps complementary slackness with
    the potentials, which proves it tier-2 optimal on ``net`` too; and every tier-2 optimum keeps
    complementary slackness with any optimal dual, so no optimum was cut away.
    """
    supply = np.zeros(tier2_net.sink, np.int64)
    supply[tier2_net.source] = flow_value
    # Measured at 2,000 x 100: the dual simplex stalls on this degenerate LP (over 45 s), interior
    # point with crossover (so a vertex) takes 1.5 s; on the tier-3 LP the dual simplex wins.
    _, potential = _certified_lp(
        tier2_net, np.arange(len(tier2_net.tail)), tier2_net.load_cost, supply, method="highs-ipm"
    )
    potential = potential[tier2_net.full_to_here]
    reduced = net.load_cost - potential[net.tail] + potential[net.head]
    arcs = np.arange(len(net.tail))
    full, free = arcs[reduced < 0], arcs[reduced == 0]
    supply = np.zeros(net.sink, np.int64)
    supply[net.source] = flow_value
    supply -= np.rint(net.incidence(full) @ net.cap[full]).astype(np.int64)
    flow = np.zeros(len(net.tail), np.int64)
    flow[full] = net.cap[full]
    if len(free):
        flow[free], _ = _certified_lp(net, free, net.pref_cost[free], supply, method="highs-ds")
    elif supply.any():
        raise _Uncertified("tier-2 potentials leave no feasible flow")
    return flow


def _certified_lp(
    net: _Network, arcs: np.ndarray, cost: np.ndarray, supply: np.ndarray, *, method: str
) -> tuple[np.ndarray, np.ndarray]:
    """Solve the min-cost flow restricted to ``arcs``; return integral flows and node potentials.

    Raise ``_Uncertified`` unless the flows are integral, feasible, and optimal by
    complementary slackness with integer potentials, all checked in integer arithmetic.
    """
    cap = net.cap[arcs]
    result = linprog(
        cost.astype(float),
        A_eq=net.incidence(arcs),
        b_eq=supply.astype(float),
        bounds=np.column_stack([np.zeros(len(arcs)), cap.astype(float)]),
        method=method,
        options={"presolve": False},  # presolve only costs time on a network matrix
    )
    if result.status != 0:
        raise _Uncertified(result.message)
    flow = np.rint(result.x).astype(np.int64)
    potential = np.rint(result.eqlin.marginals).astype(np.int64)
    if (
        np.abs(result.x - flow).max(initial=0) > 1e-6
        or np.abs(result.eqlin.marginals - potential).max(initial=0) > 1e-6
    ):
        raise _Uncertified("non-integral solution")
    potential = np.append(potential, 0)  # sink
    reduced = cost - potential[net.tail[arcs]] + potential[net.head[arcs]]
    balance = np.zeros(net.n_nodes, np.int64)
    np.add.at(balance, net.tail[arcs], flow)
    np.subtract.at(balance, net.head[arcs], flow)
    feasible = (flow >= 0).all() and (flow <= cap).all() and (balance[: net.sink] == supply).all()
    slack = ((reduced <= 0) | (flow == 0)).all() and ((reduced >= 0) | (flow == cap)).all()
    if not (feasible and slack):
        raise _Uncertified("complementary slackness fails")
    return flow, potential


def _solve_network_simplex(net: _Network, flow_value: int) -> np.ndarray:
    """All tiers at once with exact integer costs (networkx): slow on large inputs, never inexact."""
    pref_range = flow_value * int(net.pref_cost.max(initial=0)) + 1
    graph = nx.MultiDiGraph()
    graph.add_nodes_from(range(net.n_nodes))
    graph.nodes[net.source]["demand"] = -flow_value
    graph.nodes[net.sink]["demand"] = flow_value
    for arc in range(len(net.tail)):
        graph.add_edge(
            int(net.tail[arc]),
            int(net.head[arc]),
            key=arc,
            capacity=int(net.cap[arc]),
            weight=int(net.load_cost[arc]) * pref_range + int(net.pref_cost[arc]),
        )
    _, flow_dict = nx.network_simplex(graph)
    flow = np.zeros(len(net.tail), np.int64)
    for arc in range(len(net.tail)):
        flow[arc] = flow_dict[int(net.tail[arc])][int(net.head[arc])][arc]
    return flow


# --- Result ---


def _build_result(data: _Data, new_pairs: list[Pair]) -> AssignmentResult:
    final = set(data.kept) | set(new_pairs)
    loads = Counter(r for r, _ in final)
    on_dossier: dict[int, list[int]] = defaultdict(list)
    for reviewer_id, dossier_id in final:
        on_dossier[dossier_id].append(reviewer_id)
    total_room = int(data.remaining.sum())
    total_open = int(data.open_places.sum())
    k = data.k

    uncovered = []
    for j, dossier in enumerate(data.dossiers):
        missing = k - len(on_dossier[dossier.id])
        if missing <= 0:
            continue
        on_it = on_dossier[dossier.id]
        has_outside = any(_is_outside(data.reviewers[data.r_index[r]], dossier) for r in on_it)
        free = int(data.kept_count[j] + data.available[:, j].sum())
        if free < k:
            if free == 0:
                who = "Aucun évaluateur disponible"
            else:
                who = f"Seulement {free} évaluateur{'s' * (free > 1)} disponible{'s' * (free > 1)}"
            reason = f"{who} sans conflit d'intérêts ({k} requis)"
        elif data.reserve[j] and not has_outside and not (data.available[:, j] & data.outside[:, j]).any():
            reason = f"Aucun évaluateur hors de la région {dossier.region} disponible sans conflit d'intérêts"
        elif data.reserve[j] and not has_outside and missing == 1:
            reason = f"Capacité épuisée des évaluateurs hors de la région {dossier.region}"
        elif total_room < total_open:
            reason = f"Capacité totale des évaluateurs épuisée ({total_room} places pour {total_open} requises)"
        else:
            reason = "Capacité des évaluateurs compatibles épuisée par les autres dossiers"
        uncovered.append(Uncovered(dossier.id, missing, reason))

    components = _components(final)
    return AssignmentResult(
        new_pairs=new_pairs,
        kept_pairs=list(data.kept),
        rejected_pairs=list(data.rejected),
        loads={r.id: loads[r.id] for r in data.reviewers},
        uncovered=uncovered,
        calibration_connected=components == 1,
        components=components,
        notes=_notes(data),
    )


def _notes(data: _Data) -> list[str]:
    notes = [
        f"Affectation existante retirée : l'évaluateur {r} a un conflit d'intérêts sur le dossier {d}."
        for r, d in data.rejected
    ]
    for i, reviewer in enumerate(data.reviewers):
        if data.existing_load[i] > reviewer.capacity:
            notes.append(
                f"L'évaluateur {reviewer.id} a déjà {data.existing_load[i]} dossiers "
                f"pour une capacité de {reviewer.capacity} : aucun dossier ajouté."
            )
    for j, dossier in enumerate(data.dossiers):
        if data.kept_count[j] > data.k:
            notes.append(f"Le dossier {dossier.id} a déjà {data.kept_count[j]} évaluateurs pour {data.k} requis.")
        if (
            data.problem.require_outside_region
            and data.kept_count[j] >= data.k
            and not (data.kept_matrix[:, j] & data.outside[:, j]).any()
        ):
            notes.append(
                f"Le dossier {dossier.id} n'a, parmi ses affectations existantes, "
                f"aucun évaluateur hors de la région {dossier.region}."
            )
    return notes


def _is_outside(reviewer: Reviewer, dossier: Dossier) -> bool:
    return reviewer.home_region != "" and reviewer.home_region != dossier.region


def _components(pairs: Collection[Pair]) -> int:
    """Connected components of the bipartite reviewer-dossier graph (assigned nodes only)."""
    graph = nx.Graph()
    graph.add_edges_from((("reviewer", r), ("dossier", d)) for r, d in pairs)
    return nx.number_connected_components(graph)
