"""The selection console's exact proposal, cached under a key that names its inputs; large calls
are solved by a worker.

The caller's key must change whenever what `propose()` reads would (the console's names the
ranking stamp, the call's budget and the constraints: awards.console), so a cached proposal is
never stale, at worst unused. Up to `SOLVE_IN_REQUEST_UP_TO` candidates the programme is solved in
the request (a few seconds at most); above, a job through the outbox solves it while the page says
so and reloads itself, so a 10,000-dossier call never holds a web worker past its time-out. The
candidates are read only when the proposal has to be solved.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

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


def exact_proposal(
    key: str, constraints: Constraints, candidates: Callable[[], Sequence[Candidate]], *, size: int
) -> Outcome:
    """The proposal cached under `key`; else solved now from `candidates()` (`size` of them), or
    by a worker for a large call (pending meanwhile)."""
    outcome = cache.get(key)
    if outcome is not None:
        return outcome
    if size <= SOLVE_IN_REQUEST_UP_TO:
        outcome = _solve(candidates(), constraints)
        cache.set(key, outcome, KEEP_FOR)
        return outcome
    if cache.add(f"{key}:computing", True, COMPUTING_FOR):
        cache.set(f"{key}:inputs", (list(candidates()), constraints), COMPUTING_FOR)
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
