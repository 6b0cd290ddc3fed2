"""The selection console's exact proposal, cached by its inputs; large calls are solved by a worker.

The cache key is a digest of everything `propose()` reads (the candidates, in rank order, and the
constraints), so a new review, another amount or a lock gives another key: a cached proposal is
never stale, at worst unused. Up to `SOLVE_IN_REQUEST_UP_TO` candidates the programme is solved in
the request (a few seconds at most); above, a job through the outbox solves it while the page says
so and reloads itself, so a 10,000-dossier call never holds a web worker past its time-out.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence

from django.core.cache import cache

from jobs.services import enqueue

from .selection import Candidate, Constraints, Proposal, SelectionError, propose

SOLVE_IN_REQUEST_UP_TO = 2000
KEEP_FOR = 24 * 3600
# A job that died leaves its marker this long; the page then asks again.
COMPUTING_FOR = 10 * 60


@dataclasses.dataclass(frozen=True)
class Outcome:
    proposal: Proposal | None = None
    error: str = ""
    pending: bool = False


def cache_key(candidates: Sequence[Candidate], constraints: Constraints) -> str:
    state = dataclasses.asdict(constraints)
    state["locked_in"], state["locked_out"] = sorted(constraints.locked_in), sorted(constraints.locked_out)
    digest = hashlib.sha256(repr((tuple(candidates), sorted(state.items()))).encode()).hexdigest()
    return f"awards:proposal:{digest}"


def exact_proposal(candidates: Sequence[Candidate], constraints: Constraints) -> Outcome:
    key = cache_key(candidates, constraints)
    outcome = cache.get(key)
    if outcome is not None:
        return outcome
    if len(candidates) <= SOLVE_IN_REQUEST_UP_TO:
        outcome = _solve(candidates, constraints)
        cache.set(key, outcome, KEEP_FOR)
        return outcome
    if cache.add(f"{key}:computing", True, COMPUTING_FOR):
        cache.set(f"{key}:inputs", (list(candidates), constraints), COMPUTING_FOR)
        enqueue("awards.tasks.propose_selection_task", cache_key=key)
    return Outcome(pending=True)


def solve_pending(key: str) -> bool:
    """The worker's part: solve the inputs the page left under `key`; False if they are gone."""
    inputs = cache.get(f"{key}:inputs")
    if inputs is None:
        return False
    cache.set(key, _solve(*inputs), KEEP_FOR)
    cache.delete_many([f"{key}:inputs", f"{key}:computing"])
    return True


def _solve(candidates: Sequence[Candidate], constraints: Constraints) -> Outcome:
    try:
        return Outcome(proposal=propose(candidates, constraints))
    except (SelectionError, ValueError) as failure:
        return Outcome(error=str(failure))
