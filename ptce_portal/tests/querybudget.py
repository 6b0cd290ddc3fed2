"""Query budgets: a page or a task runs the same number of queries whatever the number of rows.

`assert_query_budget(prepare, sizes=(1, 50), ceiling=15)` calls `prepare(size)` for each size,
which builds the data with that many related rows and returns the callable to measure (a request
through the test client, a task...). The callable's queries are counted at each size: the counts
must be equal (no query per row) and within the ceiling. On failure, both lists of queries are
printed, so the extra or repeated statement shows at once (QUERY_BUDGET_SHOW=1 in the environment
fails every budget, to read the queries of a page that passes).

Each size gets fresh data and a fresh session (sign in inside `prepare`), so both runs start from
the same state.
Process-wide caches that would make the first run pay queries the second one skips (content
types, the Redis cache) are cleared before each measured call.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

# The ceilings of issue 8: applicant pages, reviewer and staff pages, admin changelists, exports, tasks.
APPLICANT_PAGE = 15
STAFF_PAGE = 25
ADMIN_CHANGELIST = 30
EXPORT = 10
TASK = 20


def capture(run: Callable[[], Any]) -> tuple[list[str], Any]:
    """The SQL of every query `run()` makes, and its result. A streaming response is consumed
    inside the count, since its rows are read while it streams."""
    ContentType.objects.clear_cache()
    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        result = run()
        if getattr(result, "streaming", False):
            b"".join(result.streaming_content)
    return [query["sql"] for query in captured.captured_queries], result


def _listing(size: int, queries: list[str]) -> str:
    lines = "\n".join(f"  {index:>3}. {sql[:400]}" for index, sql in enumerate(queries, start=1))
    return f"--- {len(queries)} queries with {size} rows:\n{lines}"


def assert_query_budget(
    prepare: Callable[[int], Callable[[], Any]],
    *,
    ceiling: int,
    sizes: Sequence[int] = (1, 50),
    label: str = "",
) -> int:
    """Counts the queries of `prepare(size)()` at each size; fails unless they are all equal and at
    most `ceiling`. Returns the count."""
    measured = {}
    for size in sizes:
        run = prepare(size)
        measured[size], _result = capture(run)
    counts = {size: len(queries) for size, queries in measured.items()}
    same = len(set(counts.values())) == 1
    within = max(counts.values()) <= ceiling
    if not (same and within) or os.environ.get("QUERY_BUDGET_SHOW"):
        problem = "not the same number of queries" if not same else f"over the ceiling of {ceiling}"
        details = "\n".join(_listing(size, queries) for size, queries in measured.items())
        pytest.fail(f"{label or 'query budget'}: {problem} {counts}\n{details}", pytrace=False)
    print(f"query budget {label}: {counts} (ceiling {ceiling})")
    return counts[sizes[0]]


def expect_status(response, *statuses: int):
    """The response, after checking its status: a budget measured on an error page proves nothing."""
    assert response.status_code in statuses, (response.status_code, getattr(response, "url", ""))
    return response
