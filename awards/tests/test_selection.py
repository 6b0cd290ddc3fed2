import hashlib
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from awards.selection import (
    SCORE_SCALE,
    Candidate,
    Constraints,
    check,
    greedy_by_rank,
    marginal_costs,
    propose,
    ties_at_cut,
    verifiable_draw,
    verify_draw,
)
from awards.selection import _Problem as Problem

K = 1000  # euros per k€, to keep the hand-made cases readable


def candidate(id, score, requested, *, by_year=None, region="IDF", priority="quartier", eliminated=False, rank=None):
    """A candidate ranked by score, then by id (the published order of the hand-made cases)."""
    return Candidate(
        id=id,
        score=score,
        requested=requested,
        requested_by_year=by_year if by_year is not None else (requested,),
        region=region,
        territory_priority=priority,
        eliminated=eliminated,
        rank_key=rank if rank is not None else (-(score if score is not None else -1), id),
        reference=f"PTCE-2013-{id:04d}",
    )


# --- Hand-made cases, solved by hand ---


def test_exact_selection_beats_greedy_when_one_dossier_blocks_two():
    # Greedy takes the 290 k€ dossier (80) and nothing else fits; two 150 k€ dossiers make 157.
    candidates = [candidate(1, 80, 290 * K), candidate(2, 79, 150 * K), candidate(3, 78, 150 * K)]
    constraints = Constraints(envelope=300 * K)

    proposal = propose(candidates, constraints)

    assert proposal.status == "optimal"
    assert proposal.selected == (2, 3)
    assert proposal.total_score == 157
    assert proposal.total_requested == 300 * K
    assert proposal.remaining == 0
    assert proposal.totals_by_year == (300 * K,)
    assert proposal.greedy == (1,)
    assert proposal.greedy_score == 80
    assert proposal.gain_over_greedy == 77
    assert proposal.objective == 157 * SCORE_SCALE


def test_regional_minimum_forces_a_lower_scored_dossier_in():
    candidates = [
        candidate(1, 90, 100 * K, region="IDF"),
        candidate(2, 85, 100 * K, region="IDF"),
        candidate(3, 60, 100 * K, region="BRE"),
    ]

    proposal = propose(candidates, Constraints(envelope=300 * K, max_laureates=2, min_per_region={"BRE": 1}))

    assert proposal.selected == (1, 3)
    assert proposal.total_score == 150


def test_regional_maximum_and_priority_minimum():
    candidates = [
        candidate(1, 90, 100 * K, region="IDF", priority="quartier"),
        candidate(2, 85, 100 * K, region="IDF", priority="quartier"),
        candidate(3, 80, 100 * K, region="IDF", priority="rural"),
        candidate(4, 70, 100 * K, region="BRE", priority="quartier"),
        candidate(5, 65, 100 * K, region="BRE", priority="bassin"),
    ]
    constraints = Constraints(
        envelope=300 * K, max_per_region={"IDF": 2}, min_per_priority={"bassin": 1}, max_per_priority={"rural": 0}
    )

    proposal = propose(candidates, constraints)

    assert proposal.selected == (1, 2, 5)


def test_locked_in_and_locked_out_dossiers():
    candidates = [
        candidate(1, 90, 100 * K),
        candidate(2, 85, 100 * K),
        candidate(3, 80, 100 * K),
        candidate(4, 50, 100 * K),
    ]
    constraints = Constraints(envelope=300 * K, locked_in=frozenset({4}), locked_out=frozenset({1}))

    proposal = propose(candidates, constraints)

    assert proposal.selected == (2, 3, 4)
    assert proposal.greedy == (2, 3, 4)


def test_max_laureates_binds():
    # Without a limit the three cheap dossiers win (177); with two laureates at most, 95 + 60.
    candidates = [
        candidate(1, 95, 200 * K),
        candidate(2, 60, 50 * K),
        candidate(3, 59, 50 * K),
        candidate(4, 58, 50 * K),
    ]

    assert propose(candidates, Constraints(envelope=250 * K)).selected == (2, 3, 4)
    assert propose(candidates, Constraints(envelope=250 * K, max_laureates=2)).selected == (1, 2)


def test_per_year_limits():
    # A+B breaks 2015 (200 k€ for 150 k€), B+C breaks 2015 too; A+C fits both years.
    candidates = [
        candidate(1, 90, 200 * K, by_year=(150 * K, 50 * K)),
        candidate(2, 85, 200 * K, by_year=(50 * K, 150 * K)),
        candidate(3, 80, 200 * K, by_year=(100 * K, 100 * K)),
    ]
    constraints = Constraints(envelope=400 * K, year_limits=(250 * K, 150 * K), year_labels=("2014", "2015"))

    proposal = propose(candidates, constraints)

    assert proposal.selected == (1, 3)
    assert proposal.totals_by_year == (250 * K, 150 * K)
    assert check([1, 2], candidates, constraints) == [
        "Le plafond 2015 est dépassé (200\u202f000\u00a0€ pour 150\u202f000\u00a0€)."
    ]


def test_eliminated_and_unreviewed_dossiers_are_never_selected():
    candidates = [
        candidate(1, 99, 10 * K, eliminated=True),
        candidate(2, None, 10 * K),
        candidate(3, 50, 10 * K),
    ]

    proposal = propose(candidates, Constraints(envelope=1000 * K))

    assert proposal.selected == (3,)
    assert proposal.greedy == (3,)


def test_an_unreviewed_dossier_may_be_locked_in():
    candidates = [candidate(1, None, 10 * K), candidate(2, 50, 10 * K)]

    proposal = propose(candidates, Constraints(envelope=20 * K, locked_in=frozenset({1})))

    assert proposal.selected == (2, 1)
    assert proposal.total_score == 50


def test_locked_in_dossiers_over_the_envelope_are_infeasible_with_the_amounts():
    candidates = [candidate(1, 80, 1_600 * K), candidate(2, 70, 1_520 * K), candidate(3, 60, 100 * K)]

    proposal = propose(candidates, Constraints(envelope=3_000 * K, locked_in=frozenset({1, 2})))

    assert proposal.status == "infeasible"
    assert proposal.selected == ()
    assert proposal.remaining == 3_000 * K
    assert proposal.reasons == (
        "Les dossiers imposés dépassent l'enveloppe (3\u202f120\u202f000\u00a0€ pour 3\u202f000\u202f000\u00a0€).",
    )


def test_locking_in_an_eliminated_dossier_is_infeasible():
    candidates = [candidate(1, 80, 100 * K, eliminated=True), candidate(2, 70, 100 * K)]

    proposal = propose(candidates, Constraints(envelope=300 * K, locked_in=frozenset({1})))

    assert proposal.status == "infeasible"
    assert proposal.reasons == (
        "Le dossier PTCE-2013-0001 est imposé alors qu'il n'atteint pas un seuil éliminatoire.",
    )


def test_unreachable_regional_minima_are_explained():
    candidates = [
        candidate(1, 80, 200 * K, region="IDF"),
        candidate(2, 70, 200 * K, region="IDF"),
        candidate(3, 60, 100 * K, region="BRE", eliminated=True),
    ]

    proposal = propose(candidates, Constraints(envelope=300 * K, min_per_region={"IDF": 2, "BRE": 1}))

    assert proposal.reasons == (
        "La région BRE exige au moins 1 lauréat pour 0 dossier éligible.",
        "Respecter les minimums par région coûte au moins 400\u202f000\u00a0€ pour une enveloppe de 300\u202f000\u00a0€.",
    )


def test_infeasibility_without_a_single_cause_names_the_rules_that_block():
    # The only Breton dossier needs 100 k€ in 2014, capped at 50 k€: the quota and the cap clash.
    candidates = [
        candidate(1, 80, 150 * K, by_year=(100 * K, 50 * K), region="BRE"),
        candidate(2, 70, 100 * K, by_year=(50 * K, 50 * K), region="IDF"),
    ]
    constraints = Constraints(envelope=300 * K, min_per_region={"BRE": 1}, year_limits=(50 * K, 100 * K))

    proposal = propose(candidates, constraints)

    assert proposal.status == "infeasible"
    assert proposal.reasons == (
        "Aucune sélection ne respecte toutes les règles ; sans les plafonds annuels, une sélection existe.",
        "Aucune sélection ne respecte toutes les règles ; sans les minimums par région, une sélection existe.",
    )


def test_equal_scores_are_broken_by_the_published_order_whatever_the_input_order():
    candidates = [
        candidate(1, 70, 100 * K, rank=(-70, "2013-10-29")),
        candidate(2, 70, 100 * K, rank=(-70, "2013-10-28")),  # submitted earlier: ranked first
        candidate(3, 90, 100 * K, rank=(-90, "2013-10-30")),
    ]
    constraints = Constraints(envelope=200 * K)

    assert propose(candidates, constraints).selected == (3, 2)
    assert propose(candidates[::-1], constraints).selected == (3, 2)


def test_ties_prefer_the_best_ranked_dossier_lexicographically():
    # Every pair scores 20; {1, 4} and {2, 3} both fill the envelope. The first-ranked dossier
    # can be in an optimal selection, so it is: {1, 4}, though 2 and 3 rank better than 4.
    candidates = [
        candidate(1, 10, 60 * K),
        candidate(2, 10, 50 * K),
        candidate(3, 10, 50 * K),
        candidate(4, 10, 40 * K),
    ]

    proposal = propose(candidates, Constraints(envelope=100 * K))

    assert proposal.selected == (1, 4)


def test_negative_scores_are_refused():
    with pytest.raises(ValueError, match="non-negative"):
        propose([candidate(1, -0.5, 10 * K)], Constraints(envelope=100 * K))


def test_no_candidate_gives_an_empty_optimal_selection():
    proposal = propose([], Constraints(envelope=100 * K))

    assert (proposal.status, proposal.selected, proposal.remaining) == ("optimal", (), 100 * K)


# --- check() and greedy_by_rank() ---


def test_check_lists_every_broken_rule_in_french():
    candidates = [
        candidate(1, 80, 200 * K, region="IDF", eliminated=True),
        candidate(2, None, 200 * K, region="IDF"),
        candidate(3, 60, 100 * K, region="BRE"),
    ]
    constraints = Constraints(
        envelope=300 * K,
        max_laureates=1,
        min_per_region={"BRE": 1},
        max_per_region={"IDF": 1},
        locked_in=frozenset({3}),
        locked_out=frozenset({2}),
    )

    assert check([1, 2, 9], candidates, constraints) == [
        "Dossier inconnu : 9.",
        "Le dossier PTCE-2013-0001 n'atteint pas un seuil éliminatoire.",
        "Le dossier PTCE-2013-0002 n'a pas été évalué.",
        "Le dossier PTCE-2013-0002 est exclu mais sélectionné.",
        "Le dossier PTCE-2013-0003 est imposé mais absent de la sélection.",
        "La sélection dépasse l'enveloppe (400\u202f000\u00a0€ pour 300\u202f000\u00a0€).",
        "La sélection compte 2 lauréats pour 1 au plus.",
        "La région BRE compte 0 lauréat pour au moins 1.",
        "La région IDF compte 2 lauréats pour 1 au plus.",
    ]


def test_greedy_meets_minimum_quotas_first_then_goes_down_the_list():
    candidates = [
        candidate(1, 90, 100 * K, region="IDF"),
        candidate(2, 85, 150 * K, region="IDF"),
        candidate(3, 80, 50 * K, region="IDF"),
        candidate(4, 60, 100 * K, region="BRE"),
    ]

    greedy = greedy_by_rank(candidates, Constraints(envelope=250 * K, min_per_region={"BRE": 1}))

    # BRE's quota first (4), then 1; 2 no longer fits, 3 does.
    assert greedy == [1, 3, 4]


# --- Marginal costs, ties, draw ---


def test_marginal_costs_force_each_dossier_in_or_out():
    candidates = [
        candidate(1, 80, 290 * K),
        candidate(2, 79, 150 * K),
        candidate(3, 78, 150 * K),
        candidate(4, 99, 10 * K, eliminated=True),
        candidate(5, 90, 400 * K),
    ]
    constraints = Constraints(envelope=300 * K)
    proposal = propose(candidates, constraints)

    costs = marginal_costs(candidates, constraints, proposal)

    # Without 2 (or 3) the best is 1 alone (80); forcing 1 in leaves room for nothing else.
    assert costs == {2: -77.0, 3: -77.0, 1: -77.0, 5: None, 4: None}


def test_marginal_costs_override_locks_and_can_be_restricted():
    candidates = [candidate(1, 90, 100 * K), candidate(2, 85, 100 * K), candidate(3, 50, 100 * K)]
    constraints = Constraints(envelope=200 * K, locked_in=frozenset({3}), locked_out=frozenset({1}))
    proposal = propose(candidates, constraints)
    assert proposal.selected == (2, 3)

    # Forcing the imposed dossier 3 out leaves 2 alone (1 stays excluded): 85 instead of 135.
    assert marginal_costs(candidates, constraints, proposal, ids=[3]) == {3: -50.0}
    # Forcing the excluded dossier 1 in: 1 and 3 (the imposed one) make 140.
    assert marginal_costs(candidates, constraints, proposal, ids=[1]) == {1: 5.0}


def test_ties_at_cut_groups_exact_and_near_ties_that_straddle_the_cut():
    candidates = [
        candidate(1, 90, 100 * K),
        candidate(2, 70, 100 * K),
        candidate(3, 70, 100 * K),
        candidate(4, 69.6, 100 * K),
        candidate(5, 60, 100 * K),
        candidate(6, 69.8, 100 * K, eliminated=True),
    ]
    proposal = propose(candidates, Constraints(envelope=200 * K))
    assert proposal.selected == (1, 2)

    assert ties_at_cut(candidates, proposal, near=0) == [[2, 3]]
    assert ties_at_cut(candidates, proposal) == [[2, 3, 4]]
    assert ties_at_cut(candidates, propose(candidates, Constraints(envelope=400 * K))) == []


def test_verifiable_draw_is_reproducible_and_checkable():
    seed = "4f1c9a2e7b6d3c58a0e1f2b3c4d5e6f7"

    order, commitment = verifiable_draw([12, 7, 30, 5], seed)

    assert commitment == hashlib.sha256(seed.encode()).hexdigest()
    assert order == sorted([12, 7, 30, 5], key=lambda i: hashlib.sha256(f"{seed}:{i}".encode()).hexdigest())
    assert verifiable_draw([5, 30, 7, 12], seed) == (order, commitment)
    assert verify_draw(order, seed, commitment) is True
    assert verify_draw(order[::-1], seed, commitment) is False
    assert verify_draw(order, seed + "x", commitment) is False
    assert verify_draw(order, "another seed", hashlib.sha256(b"another seed").hexdigest()) is False


# --- Properties against brute force on small instances ---

REGIONS = ("A", "B", "C")
PRIORITIES = ("u", "v")


@st.composite
def instances(draw):
    n = draw(st.integers(0, 12))
    years = draw(st.integers(1, 2))
    ranks = draw(st.permutations(range(n)))
    candidates = []
    for i in range(n):
        score = draw(st.integers(-1, 12).map(lambda k: None if k < 0 else k / 2))  # many ties
        by_year = tuple(draw(st.integers(0, 6)) * 10 * K for _ in range(years))
        candidates.append(
            Candidate(
                id=i + 1,
                score=score,
                requested=sum(by_year),
                requested_by_year=by_year,
                region=draw(st.sampled_from(REGIONS)),
                territory_priority=draw(st.sampled_from(PRIORITIES)),
                eliminated=draw(st.integers(0, 6)) == 0,
                # Half the time the published order follows the score, half the time not at all.
                rank_key=(ranks[i],) if draw(st.booleans()) else (-(score or 0), ranks[i]),
                reference=f"D{i + 1}",
            )
        )
    ids = st.lists(st.sampled_from([c.id for c in candidates]), max_size=1) if candidates else st.just([])
    constraints = Constraints(
        envelope=draw(st.integers(0, 40)) * 10 * K,
        max_laureates=draw(st.one_of(st.none(), st.integers(0, 8))),
        min_per_region=draw(st.dictionaries(st.sampled_from(REGIONS), st.integers(0, 2), max_size=1)),
        max_per_region=draw(st.dictionaries(st.sampled_from(REGIONS), st.integers(0, 4), max_size=2)),
        min_per_priority=draw(st.dictionaries(st.sampled_from(PRIORITIES), st.integers(0, 2), max_size=1)),
        max_per_priority=draw(st.dictionaries(st.sampled_from(PRIORITIES), st.integers(0, 4), max_size=1)),
        year_limits=draw(st.one_of(st.none(), st.tuples(*[st.integers(0, 20).map(lambda k: k * 10 * K)] * years))),
        locked_in=frozenset(draw(ids)),
        locked_out=frozenset(draw(ids)),
    )
    return candidates, constraints


def brute_force(candidates, constraints, force=None):
    """(best scaled score, the best selection by the published order) over all subsets; (None, None)
    when no subset respects the rules. `force` = (id, 0 or 1) overrides that dossier's locks."""
    ranked = sorted(candidates, key=lambda c: (c.rank_key, c.id))
    n = len(ranked)
    subsets = (np.arange(2**n)[:, None] >> np.arange(n)[::-1]) & 1  # row value = lexicographic preference
    ok = np.ones(2**n, dtype=bool)
    locked_in, locked_out = set(constraints.locked_in), set(constraints.locked_out)
    if force is not None:
        locked_in.discard(force[0])
        locked_out.discard(force[0])
        (locked_in if force[1] else locked_out).add(force[0])
    for p, c in enumerate(ranked):
        if c.id in locked_in:
            ok &= subsets[:, p] == 1
        if c.id in locked_out or c.eliminated or (c.score is None and c.id not in locked_in):
            ok &= subsets[:, p] == 0
    ok &= subsets @ np.array([c.requested for c in ranked], dtype=np.int64) <= constraints.envelope
    if constraints.max_laureates is not None:
        ok &= subsets.sum(axis=1) <= constraints.max_laureates
    for year, limit in enumerate(constraints.year_limits or ()):
        ok &= subsets @ np.array([c.requested_by_year[year] for c in ranked], dtype=np.int64) <= limit
    for attribute, minima, maxima in (
        ("region", constraints.min_per_region, constraints.max_per_region),
        ("territory_priority", constraints.min_per_priority, constraints.max_per_priority),
    ):
        for key in set(minima) | set(maxima):
            count = subsets @ np.array([getattr(c, attribute) == key for c in ranked], dtype=np.int64)
            ok &= (count >= minima.get(key, 0)) & (count <= maxima.get(key, n))
    if not ok.any():
        return None, None
    scores = subsets @ np.array([round((c.score or 0) * SCORE_SCALE) for c in ranked], dtype=np.int64)
    best = scores[ok].max()
    winner = np.flatnonzero(ok & (scores == best)).max()  # the largest row is the preferred one
    return int(best), tuple(c.id for p, c in enumerate(ranked) if subsets[winner, p])


def scaled(candidates, ids):
    by_id = {c.id: c for c in candidates}
    return sum(round((by_id[i].score or 0) * SCORE_SCALE) for i in ids)


@settings(max_examples=250, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_propose_matches_brute_force(instance):
    candidates, constraints = instance
    best, preferred = brute_force(candidates, constraints)

    proposal = propose(candidates, constraints)

    if best is None:
        assert proposal.status == "infeasible"
        assert proposal.reasons
        return
    assert proposal.status == "optimal"
    assert proposal.objective == best
    assert proposal.selected == preferred
    assert check(proposal.selected, candidates, constraints) == []
    if not proposal.greedy_violations:
        assert proposal.objective >= scaled(candidates, proposal.greedy)


def test_dominated_dossiers_are_left_out_of_the_solves_without_changing_the_answer():
    # One group; each dossier scores less and asks more than every dossier ranked before it. At most
    # two laureates: a dossier with three or more such dominators can never be in the answer.
    candidates = [
        Candidate(id=i, score=20 - i, requested=(50 + i) * K, requested_by_year=((50 + i) * K,), rank_key=(i,))
        for i in range(1, 13)
    ]
    constraints = Constraints(envelope=10_000 * K, max_laureates=2, year_limits=(10_000 * K,))

    dominated = Problem(candidates, constraints)._dominated()
    proposal = propose(candidates, constraints)

    assert dominated.tolist() == [False] * 3 + [True] * 9
    assert (proposal.objective, proposal.selected) == brute_force(candidates, constraints)
    assert marginal_costs(candidates, constraints, proposal)[12] == 8 - 18  # candidate 12 instead of 2


def test_a_cheaper_or_other_group_dossier_is_not_dominated():
    base = {"requested_by_year": (), "rank_key": ()}
    candidates = [Candidate(id=i, score=10, requested=50 * K, region="A", **base) for i in range(1, 6)]
    candidates += [
        Candidate(id=6, score=1, requested=40 * K, region="A", **base),  # asks less than all of them
        Candidate(id=7, score=1, requested=60 * K, region="B", **base),  # another region
        Candidate(id=8, score=1, requested=60 * K, region="A", **base),  # dominated five times
    ]

    dominated = Problem(candidates, Constraints(envelope=100 * K))._dominated()

    # Two laureates at most, so three dominators suffice; equal dossiers ranked earlier count too.
    assert dominated.tolist() == [False, False, False, True, True, False, False, True]


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_marginal_costs_match_brute_force(instance):
    candidates, constraints = instance
    proposal = propose(candidates, constraints)

    costs = marginal_costs(candidates, constraints, proposal)

    expected = {}
    for c in candidates:
        forced, _ = brute_force(candidates, constraints, force=(c.id, 0 if c.id in proposal.selected else 1))
        if not proposal.is_optimal or forced is None:
            expected[c.id] = None
        else:
            expected[c.id] = (forced - proposal.objective) / SCORE_SCALE
    assert costs == expected


# --- A realistic instance: the 2013 call ---


def call_2013(seed=2013):
    """182 dossiers, totals between 72 k€ and 290 k€ over three years, 22 regions, some
    eliminated; 3,000,000 € for at most 23 laureates, with priority-territory quotas."""
    rng = np.random.default_rng(seed)
    regions = [f"R{i:02d}" for i in range(22)]
    priorities = ["quartier", "bassin", "rural", "aucune"]
    candidates = []
    for i in range(182):
        score = round(float(np.clip(rng.normal(62, 11), 20, 96)), 2)
        requested = int(np.clip(rng.lognormal(np.log(140), 0.35), 72, 290)) * K
        first, second = round(requested * 0.4, -3), round(requested * 0.35, -3)
        candidates.append(
            Candidate(
                id=i + 1,
                score=None if rng.random() < 0.02 else score,
                requested=requested,
                requested_by_year=(int(first), int(second), int(requested - first - second)),
                region=str(rng.choice(regions)),
                territory_priority=str(rng.choice(priorities, p=[0.3, 0.2, 0.2, 0.3])),
                eliminated=bool(rng.random() < 0.08),
                rank_key=(-score, requested, i),
                reference=f"PTCE-2013-{i + 1:04d}",
            )
        )
    constraints = Constraints(
        envelope=3_000_000,
        max_laureates=23,
        min_per_priority={"quartier": 5, "bassin": 3, "rural": 3},
        max_per_region=dict.fromkeys(regions, 3),
        year_limits=(1_250_000, 1_100_000, 900_000),
        year_labels=("2014", "2015", "2016"),
    )
    return candidates, constraints


def test_realistic_2013_instance(capsys):
    candidates, constraints = call_2013()

    started = time.perf_counter()
    proposal = propose(candidates, constraints)
    solve_time = time.perf_counter() - started
    near_cut = [*proposal.selected, *[c.id for c in sorted(candidates, key=lambda c: c.rank_key)[:40]]]
    started = time.perf_counter()
    costs = marginal_costs(candidates, constraints, proposal, ids=near_cut)
    costs_time = time.perf_counter() - started

    assert proposal.status == "optimal"
    assert len(proposal.selected) <= 23
    assert check(proposal.selected, candidates, constraints) == []
    assert proposal.greedy_violations == ()
    assert proposal.objective >= scaled(candidates, proposal.greedy)
    assert all(cost is None or cost <= 0 for cost in costs.values())
    with capsys.disabled():
        print(
            f"\n2013-like call: {len(proposal.selected)} laureates, {proposal.total_requested} € of "
            f"{constraints.envelope} €, score {proposal.total_score:.2f} vs greedy {proposal.greedy_score:.2f} "
            f"({len(proposal.greedy)} laureates): +{proposal.gain_over_greedy:.2f}; propose {solve_time:.3f} s; "
            f"marginal_costs for {len(costs)} dossiers near the cut {costs_time:.2f} s"
        )
