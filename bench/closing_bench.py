"""Closing benchmark: close_due_calls on a call with 200 and with 2,000 drafts.

python -m bench.closing_bench
"""

from __future__ import annotations

import datetime as dt
import statistics
import time

SIZES = (200, 2_000)
REPEAT = 3  # calls closed per size; the median is reported
CLOSES = dt.datetime(2013, 10, 30, 23, 0, tzinfo=dt.UTC)  # 31 Oct 2013 00:00 in Paris


def call_with_drafts(drafts: int, owner):
    """A due call and `drafts` draft dossiers, each of its own consortium, bulk-created."""
    from applications.models import Consortium, Dossier, Maturity, Region, Sector, TerritoryPriority
    from applications.tests.factories import CallFactory

    call = CallFactory(opens_at=CLOSES - dt.timedelta(days=100), closes_at=CLOSES)
    consortia = Consortium.objects.bulk_create(
        [
            Consortium(
                name=f"Pôle coopératif {call.pk}-{index}",
                communes="L'Île-Saint-Denis, Saint-Denis",
                departement="93",
                region=Region.ILE_DE_FRANCE,
                territory_priority=TerritoryPriority.URBAN_PRIORITY_DISTRICT,
                maturity=Maturity.MATURE,
                sectors=[Sector.INSERTION, Sector.ORGANIC_FARMING],
                created_by=owner,
            )
            for index in range(drafts)
        ],
        batch_size=1000,
    )
    Dossier.objects.bulk_create(
        [Dossier(call=call, consortium=consortium) for consortium in consortia], batch_size=1000
    )
    return call


def close_once(drafts: int, owner) -> tuple[float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from applications import deadlines
    from applications.models import Dossier

    call = call_with_drafts(drafts, owner)
    with CaptureQueriesContext(connection) as queries:
        start = time.perf_counter()
        closed = deadlines.close_due_calls(at=CLOSES + dt.timedelta(minutes=1))
        seconds = time.perf_counter() - start
    assert closed == [call.pk]
    assert Dossier.objects.filter(call=call, status=Dossier.Status.EXPIRED).count() == drafts
    return seconds, len(queries)


def main() -> None:
    from .common import print_environment, scratch_database, verdict

    with scratch_database("closing"):
        from django.conf import settings

        from accounts.roles import Role
        from accounts.tests.factories import UserFactory

        print_environment()
        owner = UserFactory(role=Role.APPLICANT)
        close_once(20, owner)  # warm-up: connection, plans, imports
        timings = {size: [] for size in SIZES}
        queries = {size: set() for size in SIZES}
        for _ in range(REPEAT):
            for size in SIZES:
                seconds, count = close_once(size, owner)
                timings[size].append(seconds)
                queries[size].add(count)
        small, large = SIZES
        ratio = statistics.median(timings[large]) / statistics.median(timings[small])
        print(f"close_due_calls on a call with {small:,} and {large:,} drafts (median of {REPEAT} calls each)")
        print(f"  time {large:,} vs {small:,} drafts: {ratio:.2f}x  (target <= 12x: {verdict(ratio <= 12)})")
        print(
            f"  queries: {sorted(queries[small])} for {small:,}, {sorted(queries[large])} for {large:,}  "
            f"(same for both: {verdict(queries[small] == queries[large] and len(queries[small]) == 1)})"
        )

        import redis

        # The closing summary jobs went to the bench's own Redis database; take them back.
        redis.Redis.from_url(settings.CELERY_BROKER_URL).delete("default")


if __name__ == "__main__":
    main()
