"""Exact reviewer assignment: hand-made cases, properties on generated inputs, timing (no database)."""

import itertools
import math
import random
import time
from collections import Counter, deque

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reviews.assignment import (
    AssignmentError,
    AssignmentProblem,
    AssignmentResult,
    Dossier,
    Reviewer,
    Uncovered,
    assign_reviewers,
    verify,
)

IDF, BRE, OCC = "Île-de-France", "Bretagne", "Occitanie"


def reviewer(id, capacity=5, home=BRE, regions=(), sectors=()):
    return Reviewer(id, capacity, home, frozenset(regions), frozenset(sectors))


def dossier(id, region=IDF, sectors=()):
    return Dossier(id, region, frozenset(sectors))


# --- Hand-made cases ---


def test_expertise_decides_between_equally_loaded_solutions():
    problem = AssignmentProblem(
        dossiers=[dossier(10, sectors={"bio"}), dossier(11, sectors={"recyclage"})],
        reviewers=[
            reviewer(1, capacity=1, sectors={"bio"}),
            reviewer(2, capacity=1, sectors={"recyclage"}),
            reviewer(3, capacity=1, sectors={"bio"}),
            reviewer(4, capacity=1, sectors={"recyclage"}),
        ],
    )

    result = assign_reviewers(problem)

    assert result == AssignmentResult(
        new_pairs=[(1, 10), (2, 11), (3, 10), (4, 11)],
        kept_pairs=[],
        rejected_pairs=[],
        loads={1: 1, 2: 1, 3: 1, 4: 1},
        uncovered=[],
        calibration_connected=False,
        components=2,
        notes=[],
    )


def test_loads_are_balanced_before_expertise_is_considered():
    # Reviewer 1 matches every dossier, but four dossiers x 2 places over 4 reviewers means 2 each.
    problem = AssignmentProblem(
        dossiers=[dossier(i, sectors={"bio"}) for i in (10, 11, 12, 13)],
        reviewers=[reviewer(1, capacity=8, sectors={"bio"}), *(reviewer(i, capacity=8) for i in (2, 3, 4))],
    )

    result = assign_reviewers(problem)

    assert result.loads == {1: 2, 2: 2, 3: 2, 4: 2}
    assert result.uncovered == []


def test_conflicts_are_never_assigned_and_the_only_solution_is_found():
    problem = AssignmentProblem(
        dossiers=[dossier(10), dossier(11)],
        reviewers=[reviewer(1), reviewer(2), reviewer(3)],
        conflicts={(1, 10), (2, 11)},
    )

    result = assign_reviewers(problem)

    assert result.new_pairs == [(1, 11), (2, 10), (3, 10), (3, 11)]
    assert result.loads == {1: 1, 2: 1, 3: 2}


def test_too_few_reviewers_without_conflict_is_named():
    problem = AssignmentProblem(
        dossiers=[dossier(10), dossier(11)],
        reviewers=[reviewer(1), reviewer(2)],
        conflicts={(1, 10)},
    )

    result = assign_reviewers(problem)

    assert result.new_pairs == [(1, 11), (2, 10), (2, 11)]
    assert result.uncovered == [
        Uncovered(10, 1, "Seulement 1 évaluateur disponible sans conflit d'intérêts (2 requis)")
    ]


def test_no_reviewer_at_all_is_named():
    problem = AssignmentProblem(dossiers=[dossier(10)], reviewers=[reviewer(1)], conflicts={(1, 10)})

    result = assign_reviewers(problem)

    assert result.uncovered == [Uncovered(10, 2, "Aucun évaluateur disponible sans conflit d'intérêts (2 requis)")]
    assert (result.components, result.calibration_connected) == (0, False)


def test_exhausted_capacity_leaves_the_least_suited_dossier_uncovered():
    problem = AssignmentProblem(
        dossiers=[dossier(10, sectors={"bio"}), dossier(11, sectors={"bio"}), dossier(12, sectors={"autre"})],
        reviewers=[reviewer(1, capacity=2, sectors={"bio"}), reviewer(2, capacity=2, sectors={"bio"})],
    )

    result = assign_reviewers(problem)

    assert result.new_pairs == [(1, 10), (1, 11), (2, 10), (2, 11)]
    assert result.uncovered == [Uncovered(12, 2, "Capacité totale des évaluateurs épuisée (4 places pour 6 requises)")]


def test_existing_assignments_are_kept_and_count_toward_k_and_capacity():
    problem = AssignmentProblem(
        dossiers=[dossier(10), dossier(11)],
        reviewers=[reviewer(1, capacity=2), reviewer(2, capacity=2), reviewer(3, capacity=1)],
        existing={(1, 10), (1, 11), (3, 10)},
    )

    result = assign_reviewers(problem)

    # Reviewer 1 is full with what it already had, reviewer 3 too: only reviewer 2 can complete 11.
    assert result.kept_pairs == [(1, 10), (1, 11), (3, 10)]
    assert result.new_pairs == [(2, 11)]
    assert result.loads == {1: 2, 2: 1, 3: 1}


def test_existing_conflict_is_dropped_and_reported():
    problem = AssignmentProblem(
        dossiers=[dossier(10)],
        reviewers=[reviewer(1), reviewer(2), reviewer(3)],
        conflicts={(1, 10)},
        existing={(1, 10), (2, 10)},
    )

    result = assign_reviewers(problem)

    assert (result.kept_pairs, result.rejected_pairs, result.new_pairs) == ([(2, 10)], [(1, 10)], [(3, 10)])
    assert result.notes == ["Affectation existante retirée : l'évaluateur 1 a un conflit d'intérêts sur le dossier 10."]


def test_existing_overload_is_left_alone_and_noted():
    problem = AssignmentProblem(
        dossiers=[dossier(10), dossier(11)],
        reviewers=[reviewer(1, capacity=1), reviewer(2), reviewer(3)],
        existing={(1, 10), (1, 11)},
    )

    result = assign_reviewers(problem)

    assert result.new_pairs == [(2, 10), (3, 11)]
    assert result.loads[1] == 2
    assert result.notes == ["L'évaluateur 1 a déjà 2 dossiers pour une capacité de 1 : aucun dossier ajouté."]


def test_outside_region_reviewer_takes_one_place():
    problem = AssignmentProblem(
        dossiers=[dossier(10, region=IDF, sectors={"bio"})],
        reviewers=[
            reviewer(1, home=IDF, sectors={"bio"}),
            reviewer(2, home=IDF, sectors={"bio"}),
            reviewer(3, home=BRE),
        ],
        require_outside_region=True,
    )

    result = assign_reviewers(problem)

    assert result.new_pairs == [(1, 10), (3, 10)]


def test_without_the_outside_rule_expertise_wins():
    problem = AssignmentProblem(
        dossiers=[dossier(10, region=IDF, sectors={"bio"})],
        reviewers=[
            reviewer(1, home=IDF, sectors={"bio"}),
            reviewer(2, home=IDF, sectors={"bio"}),
            reviewer(3, home=BRE),
        ],
    )

    assert assign_reviewers(problem).new_pairs == [(1, 10), (2, 10)]


def test_missing_outside_reviewer_leaves_the_reserved_place_open():
    problem = AssignmentProblem(
        dossiers=[dossier(10, region=IDF)],
        reviewers=[reviewer(1, home=IDF), reviewer(2, home=IDF), reviewer(3, home=BRE)],
        conflicts={(3, 10)},
        require_outside_region=True,
    )

    result = assign_reviewers(problem)

    assert result.new_pairs == [(1, 10)]
    assert result.uncovered == [
        Uncovered(10, 1, f"Aucun évaluateur hors de la région {IDF} disponible sans conflit d'intérêts")
    ]


def test_exhausted_outside_reviewers_are_named():
    problem = AssignmentProblem(
        dossiers=[dossier(10, region=IDF), dossier(11, region=IDF)],
        reviewers=[reviewer(1, home=IDF), reviewer(2, home=IDF), reviewer(3, capacity=1, home=BRE)],
        require_outside_region=True,
    )

    result = assign_reviewers(problem)

    assert result.uncovered == [Uncovered(10, 1, f"Capacité épuisée des évaluateurs hors de la région {IDF}")]


def test_compatible_reviewers_exhausted_while_others_have_room():
    problem = AssignmentProblem(
        dossiers=[dossier(10), dossier(11)],
        reviewers=[reviewer(1, capacity=1), reviewer(2, capacity=2), reviewer(3, capacity=5)],
        conflicts={(3, 10), (3, 11)},
    )

    result = assign_reviewers(problem)

    assert result.new_pairs == [(1, 10), (2, 10), (2, 11)]
    assert result.uncovered == [
        Uncovered(11, 1, "Capacité des évaluateurs compatibles épuisée par les autres dossiers")
    ]


def test_unknown_home_region_does_not_count_as_outside():
    problem = AssignmentProblem(
        dossiers=[dossier(10, region=IDF)],
        reviewers=[reviewer(1, home=IDF), reviewer(2, home=""), reviewer(3, home=IDF)],
        require_outside_region=True,
    )

    result = assign_reviewers(problem)

    assert result.uncovered == [
        Uncovered(10, 1, f"Aucun évaluateur hors de la région {IDF} disponible sans conflit d'intérêts")
    ]


def test_existing_outside_reviewer_frees_the_reserved_place():
    problem = AssignmentProblem(
        dossiers=[dossier(10, region=IDF)],
        reviewers=[reviewer(1, home=IDF), reviewer(3, home=BRE)],
        existing={(3, 10)},
        require_outside_region=True,
    )

    assert assign_reviewers(problem).new_pairs == [(1, 10)]


def test_two_disjoint_reviewer_groups_are_not_connected():
    north, south = [10, 11], [12, 13]
    problem = AssignmentProblem(
        dossiers=[dossier(d) for d in north + south],
        reviewers=[reviewer(r) for r in (1, 2, 3, 4)],
        conflicts={(r, d) for r in (1, 2) for d in south} | {(r, d) for r in (3, 4) for d in north},
    )

    result = assign_reviewers(problem)

    assert (result.calibration_connected, result.components) == (False, 2)


def test_overlapping_groups_are_connected():
    problem = AssignmentProblem(
        dossiers=[dossier(10), dossier(11), dossier(12)],
        reviewers=[reviewer(1), reviewer(2), reviewer(3)],
    )

    result = assign_reviewers(problem)

    assert (result.calibration_connected, result.components) == (True, 1)


def test_verify_names_each_broken_rule():
    problem = AssignmentProblem(
        dossiers=[dossier(10, region=IDF)],
        reviewers=[reviewer(1, capacity=0, home=IDF), reviewer(2, home=IDF), reviewer(3, home=IDF)],
        conflicts={(2, 10)},
        require_outside_region=True,
    )
    bad = AssignmentResult(
        new_pairs=[(1, 10), (2, 10), (3, 10)],
        kept_pairs=[],
        rejected_pairs=[],
        loads={1: 1, 2: 1, 3: 1},
        uncovered=[],
        calibration_connected=True,
        components=1,
        notes=[],
    )

    problems = verify(bad, problem)

    assert problems == [
        "L'évaluateur 2 a un conflit d'intérêts sur le dossier 10.",
        "L'évaluateur 1 dépasse sa capacité (1 pour 0).",
        "Le dossier 10 a 3 évaluateurs pour 2 requis.",
        f"Le dossier 10 n'a aucun évaluateur hors de la région {IDF}.",
    ]


def test_verify_accepts_the_solver_output():
    problem = AssignmentProblem(dossiers=[dossier(10)], reviewers=[reviewer(1), reviewer(2)])

    assert verify(assign_reviewers(problem), problem) == []


@pytest.mark.parametrize(
    "problem",
    [
        AssignmentProblem(dossiers=[dossier(10), dossier(10)], reviewers=[reviewer(1)]),
        AssignmentProblem(dossiers=[dossier(10)], reviewers=[reviewer(1, capacity=-1)]),
        AssignmentProblem(dossiers=[dossier(10)], reviewers=[reviewer(1)], k=0),
        AssignmentProblem(dossiers=[dossier(10)], reviewers=[reviewer(1)], existing={(9, 10)}),
    ],
)
def test_malformed_problem_is_refused(problem):
    with pytest.raises(ValueError):  # noqa: PT011 - several distinct messages
        assign_reviewers(problem)


def test_empty_problem():
    result = assign_reviewers(AssignmentProblem(dossiers=[], reviewers=[]))

    assert (result.new_pairs, result.uncovered, result.components) == ([], [], 0)


def test_assignment_error_is_a_runtime_error():
    assert issubclass(AssignmentError, RuntimeError)


# --- Independent references used by the properties ---


def expertise_cost(problem, reviewer_id, dossier_id):
    r = next(x for x in problem.reviewers if x.id == reviewer_id)
    d = next(x for x in problem.dossiers if x.id == dossier_id)
    return 2 * (not (r.sectors & d.sectors)) + (d.region not in r.regions)


def objective(problem, result):
    """(places covered, sum of squared loads, expertise cost): the first three tiers."""
    covered = len(result.new_pairs)
    squares = sum(load * load for load in result.loads.values())
    expertise = sum(expertise_cost(problem, r, d) for r, d in result.new_pairs)
    return covered, squares, expertise


def open_places(problem):
    kept = set(problem.existing) - set(problem.conflicts)
    counts = Counter(d for _, d in kept)
    return {d.id: max(0, problem.k - counts[d.id]) for d in problem.dossiers}


def room(problem):
    kept = set(problem.existing) - set(problem.conflicts)
    loads = Counter(r for r, _ in kept)
    return {r.id: max(0, r.capacity - loads[r.id]) for r in problem.reviewers}


def allowed(problem, reviewer_id, dossier_id):
    return (reviewer_id, dossier_id) not in set(problem.conflicts) | set(problem.existing)


def max_coverage(problem):
    """Edmonds-Karp on source -> reviewer (room) -> dossier (1 if allowed) -> sink (open places)."""
    residual = {}

    def arc(u, v, c):
        residual.setdefault(u, {}).setdefault(v, 0)
        residual.setdefault(v, {}).setdefault(u, 0)
        residual[u][v] += c

    for r, c in room(problem).items():
        arc("s", ("r", r), c)
    for d, c in open_places(problem).items():
        arc(("d", d), "t", c)
    for r in problem.reviewers:
        for d in problem.dossiers:
            if allowed(problem, r.id, d.id):
                arc(("r", r.id), ("d", d.id), 1)
    total = 0
    while "s" in residual:
        parent = {"s": None}
        queue = deque(["s"])
        while queue and "t" not in parent:
            u = queue.popleft()
            for v, c in residual[u].items():
                if c > 0 and v not in parent:
                    parent[v] = u
                    queue.append(v)
        if "t" not in parent:
            return total
        v = "t"
        while parent[v] is not None:
            residual[parent[v]][v] -= 1
            residual[v][parent[v]] += 1
            v = parent[v]
        total += 1
    return total


def brute_force_objective(problem):
    """Best (covered, -squares, -expertise) over every assignment obeying the rules as stated."""
    places, spare = open_places(problem), room(problem)
    kept = set(problem.existing) - set(problem.conflicts)
    home = {r.id: r.home_region for r in problem.reviewers}
    region = {d.id: d.region for d in problem.dossiers}
    options = []
    for d in problem.dossiers:
        candidates = [r.id for r in problem.reviewers if allowed(problem, r.id, d.id) and spare[r.id] > 0]
        options.append(
            [(d.id, group) for n in range(places[d.id] + 1) for group in itertools.combinations(candidates, n)]
        )
    base = Counter(r for r, _ in kept)
    best = None
    for choice in itertools.product(*options):
        loads = base.copy()
        for _, group in choice:
            loads.update(group)
        if any(loads[r] - base[r] > spare[r] for r in spare):
            continue
        if problem.require_outside_region and any(
            group
            and len(group) + sum(1 for r, x in kept if x == d) >= problem.k
            and not any(home[r] not in ("", region[d]) for r in [*group, *(r for r, x in kept if x == d)])
            for d, group in choice
        ):
            continue
        pairs = [(r, d) for d, group in choice for r in group]
        key = (
            len(pairs),
            -sum(loads[r.id] ** 2 for r in problem.reviewers),
            -sum(expertise_cost(problem, r, d) for r, d in pairs),
        )
        best = key if best is None or key > best else best
    covered, squares, expertise = best
    return covered, -squares, -expertise


def check_rules(problem, result):
    """The hard rules, restated independently of `verify`."""
    conflicts = set(problem.conflicts)
    kept = set(problem.existing) - conflicts
    final = kept | set(result.new_pairs)
    assert result.kept_pairs == sorted(kept)
    assert len(result.new_pairs) == len(set(result.new_pairs))
    assert not set(result.new_pairs) & (conflicts | set(problem.existing))
    per_dossier = Counter(d for _, d in final)
    new_per_dossier = Counter(d for _, d in result.new_pairs)
    new_per_reviewer = Counter(r for r, _ in result.new_pairs)
    for r in problem.reviewers:
        load = sum(1 for x, _ in final if x == r.id)
        assert result.loads[r.id] == load
        if new_per_reviewer[r.id]:
            assert load <= r.capacity
    home = {r.id: r.home_region for r in problem.reviewers}
    for d in problem.dossiers:
        if new_per_dossier[d.id]:
            assert per_dossier[d.id] <= problem.k
        if problem.require_outside_region and new_per_dossier[d.id] and per_dossier[d.id] >= problem.k:
            assert any(home[r] not in ("", d.region) for r, x in final if x == d.id)
    assert [(u.dossier_id, u.missing) for u in result.uncovered] == [
        (d.id, problem.k - per_dossier[d.id])
        for d in sorted(problem.dossiers, key=lambda d: d.id)
        if per_dossier[d.id] < problem.k
    ]
    assert all(u.reason for u in result.uncovered)


# --- Generated problems ---


@st.composite
def problems(draw, max_dossiers=4, max_reviewers=4, max_k=2, outside=None, with_existing=True):
    n_d = draw(st.integers(0, max_dossiers))
    n_r = draw(st.integers(1, max_reviewers))
    regions = st.sampled_from([IDF, BRE, OCC])
    homes = st.sampled_from([IDF, BRE, OCC, ""])
    sectors = st.frozensets(st.sampled_from(["bio", "insertion", "énergie"]), max_size=2)
    dossiers = [Dossier(10 + i, draw(regions), draw(sectors)) for i in range(n_d)]
    reviewers = [
        Reviewer(1 + i, draw(st.integers(0, 4)), draw(homes), draw(st.frozensets(regions, max_size=2)), draw(sectors))
        for i in range(n_r)
    ]
    pairs = [(r.id, d.id) for r in reviewers for d in dossiers]
    subset = st.sets(st.sampled_from(pairs), max_size=len(pairs) // 3) if pairs else st.just(set())
    conflicts = draw(subset)
    existing = draw(subset) if with_existing else set()
    k = draw(st.integers(1, max_k))
    require_outside = draw(st.booleans()) if outside is None else outside
    return AssignmentProblem(dossiers, reviewers, frozenset(conflicts), frozenset(existing), k, require_outside)


def shuffled(problem, seed):
    rnd = random.Random(seed)
    dossiers, reviewers = list(problem.dossiers), list(problem.reviewers)
    conflicts, existing = list(problem.conflicts), list(problem.existing)
    for items in (dossiers, reviewers, conflicts, existing):
        rnd.shuffle(items)
    return AssignmentProblem(
        tuple(dossiers), tuple(reviewers), conflicts, existing, problem.k, problem.require_outside_region
    )


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problem=problems())
def test_tiny_problems_reach_the_brute_force_optimum(problem):
    result = assign_reviewers(problem)

    check_rules(problem, result)
    assert objective(problem, result) == brute_force_objective(problem)


@settings(max_examples=60, deadline=None)
@given(problem=problems(max_dossiers=10, max_reviewers=6, max_k=3, outside=False))
def test_coverage_equals_an_independent_max_flow(problem):
    result = assign_reviewers(problem)

    best = max_coverage(problem)
    check_rules(problem, result)
    assert len(result.new_pairs) == best
    if best == sum(open_places(problem).values()):
        assert result.uncovered == []
    else:
        assert result.uncovered != []


@settings(max_examples=40, deadline=None)
@given(
    n_d=st.integers(1, 25),
    n_r=st.integers(2, 7),
    k=st.integers(1, 3),
    extra=st.lists(st.integers(1, 4), min_size=7, max_size=7),
)
def test_loads_differ_by_at_most_one_when_capacities_allow(n_d, n_r, k, extra):
    k = min(k, n_r)
    fair_share = math.ceil(n_d * k / n_r)
    problem = AssignmentProblem(
        dossiers=[dossier(100 + i) for i in range(n_d)],
        reviewers=[reviewer(1 + i, capacity=fair_share + extra[i]) for i in range(n_r)],
        k=k,
    )

    result = assign_reviewers(problem)

    assert result.uncovered == []
    assert max(result.loads.values()) - min(result.loads.values()) <= 1


@settings(max_examples=40, deadline=None)
@given(problem=problems(max_dossiers=8, max_reviewers=5, max_k=3), seed=st.integers(0, 1000))
def test_same_input_in_any_order_gives_the_same_output(problem, seed):
    result = assign_reviewers(problem)

    assert assign_reviewers(problem) == result
    assert assign_reviewers(shuffled(problem, seed)) == result


@settings(max_examples=40, deadline=None)
@given(problem=problems(max_dossiers=8, max_reviewers=5, max_k=3))
def test_linear_programs_and_network_simplex_agree(problem):
    staged = assign_reviewers(problem)
    simplex = assign_reviewers(problem, solver="network_simplex")

    check_rules(problem, simplex)
    assert objective(problem, staged) == objective(problem, simplex)


@settings(max_examples=40, deadline=None)
@given(problem=problems(max_dossiers=8, max_reviewers=5, max_k=3, outside=True))
def test_outside_region_rule_holds_when_on(problem):
    result = assign_reviewers(problem)

    check_rules(problem, result)
    assert verify(result, problem) == []


@settings(max_examples=40, deadline=None)
@given(problem=problems(max_dossiers=8, max_reviewers=3, max_k=3))
def test_impossible_cases_name_the_uncovered_dossiers(problem):
    result = assign_reviewers(problem)

    final = Counter(d for _, d in [*result.kept_pairs, *result.new_pairs])
    assert [u.dossier_id for u in result.uncovered] == sorted(d.id for d in problem.dossiers if final[d.id] < problem.k)


# --- Timing (printed, not asserted) ---


def large_problem(require_outside_region, seed=1):
    rnd = random.Random(seed)
    regions = [f"R{i:02}" for i in range(13)]
    sectors = ["insertion", "petite enfance", "énergie", "recyclage", "bio", "autre"]
    dossiers = [Dossier(i, rnd.choice(regions), frozenset(rnd.sample(sectors, 2))) for i in range(2000)]
    reviewers = [
        Reviewer(
            1000 + i,
            rnd.randint(40, 80),
            rnd.choice(regions),
            frozenset(rnd.sample(regions, 3)),
            frozenset(rnd.sample(sectors, 2)),
        )
        for i in range(100)
    ]
    conflicts = {(1000 + rnd.randrange(100), rnd.randrange(2000)) for _ in range(400)}
    return AssignmentProblem(dossiers, reviewers, conflicts, frozenset(), 2, require_outside_region)


@pytest.mark.parametrize("require_outside_region", [False, True])
def test_timing_2000_dossiers_100_reviewers(require_outside_region, capsys):
    problem = large_problem(require_outside_region)

    start = time.perf_counter()
    result = assign_reviewers(problem)
    elapsed = time.perf_counter() - start

    with capsys.disabled():
        print(
            f"\n2,000 x 100, k=2, outside region {require_outside_region}: {elapsed:.2f} s, "
            f"{len(result.new_pairs)} new pairs, loads {min(result.loads.values())}-{max(result.loads.values())}"
        )
    assert result.uncovered == []
