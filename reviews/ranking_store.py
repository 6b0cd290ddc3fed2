"""The ranking kept in the database, so the staff ranking page reads one sorted, paginated query.

`rank_call` reads every dossier, assignment and review of the call and fits the calibration:
seconds at 10,000 dossiers. Its result only changes when what it reads changes, and database
triggers (migration 0004) bump the call's `RankingStamp` in every transaction that does. The page
asks `fresh_ranking(call)`: when the stored rows were computed from the current stamp (and the
current calibration settings) they are used as they are; otherwise they are computed again, once,
under a lock, and stored in both orders.

Never stale: the stamp is read before the ranking is computed, and a change committed after that
read bumps the stamp past the stored version, so the next reader computes again. A change
committed between the two reads is in the stored rows already (a newer result under an older
version: harmless, it is replaced at the next bump).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from applications.models import Call, Region
from applications.services import requested_amounts_by_dossier

from .models import RankedDossier, RankingSnapshot
from .ranking import Ranking, filtered, in_order, rank_call

RANKING_LOCK = 2013_0008  # pg_advisory_xact_lock namespace of the ranking computations (with the call id)


REGION_LABELS = dict(Region.choices)

# Bumped when the stored lines gain or change a column, so lines stored before are computed again.
LINES_FORMAT = 2


COPY_LINES = (
    "COPY reviews_rankeddossier (call_id, dossier_id, position_calibrated, ranked_calibrated, position_raw, "
    "ranked_raw, assigned, totals, raw_mean, median, spread, calibrated, disagreement, eliminated_by, requested) "
    "FROM STDIN"
)


def settings_key() -> str:
    return (
        f"lines={LINES_FORMAT};shrinkage={settings.CALIBRATION_SHRINKAGE};"
        f"min_reviews={settings.CALIBRATION_MIN_REVIEWS}"
    )


def _state(call: Call) -> tuple[int, int, bool]:
    """The call's stamp (version and labels) and whether the stored lines are those of its version,
    in one statement (one snapshot of the database)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT stamp.version, stamp.labels, EXISTS (SELECT 1 FROM reviews_rankingsnapshot snapshot "
            "WHERE snapshot.call_id = %s AND snapshot.version = stamp.version AND snapshot.settings_key = %s) "
            "FROM (SELECT COALESCE(MAX(version), 0) AS version, COALESCE(MAX(labels), 0) AS labels "
            "FROM reviews_rankingstamp WHERE call_id = %s) stamp",
            [call.pk, settings_key(), call.pk],
        )
        version, labels, current = cursor.fetchone()
    return version, labels, current


def _fresh(call: Call) -> tuple[bool, str]:
    version, labels, current = _state(call)
    if not current:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [RANKING_LOCK, call.pk])
            # Another request may have computed it while this one waited for the lock.
            version, labels, current = _state(call)
            if not current:
                store(call, version)
    return not current, f"{version}.{labels}.{settings_key()}"


def fresh_ranking(call: Call) -> bool:
    """Make sure the stored lines of `call` are those of its current stamp. Return True when they
    had to be computed (one query when they did not)."""
    return _fresh(call)[0]


def fresh_stamp(call: Call) -> str:
    """`fresh_ranking`, then what identifies the stored lines and the labels they are shown with:
    results computed from them may be kept under it (it changes whenever they would)."""
    return _fresh(call)[1]


def refresh_stale() -> int:
    """Compute again the stored lines a change made stale, for the calls whose ranking someone
    has looked at; beat runs it every minute, so the next view mostly finds them ready (a view
    computes them itself otherwise). Returns how many calls were computed again."""
    return sum(fresh_ranking(call) for call in Call.objects.filter(pk__in=RankingSnapshot.objects.values("call")))


def store(call: Call, version: int) -> None:
    """Compute the ranking and replace the stored lines of the call (inside the caller's transaction)."""
    rows = rank_call(call, with_dossiers=False).rows  # already in the calibrated order, ranked
    asked = requested_amounts_by_dossier(call)
    places = {row.dossier_id: {} for row in rows}
    # The calibrated places are read before the raw sort gives the rows their raw ranks.
    for order, ordered in (("calibrated", rows), ("raw", None)):
        for position, row in enumerate(ordered or in_order(rows, order), start=1):
            places[row.dossier_id][order] = (position, row.rank is not None)
    RankedDossier.objects.filter(call=call).delete()
    lines = [
        (
            call.pk,
            row.dossier_id,
            *places[row.dossier_id]["calibrated"],
            *places[row.dossier_id]["raw"],
            row.assigned,
            row.totals,
            row.raw_mean,
            row.median,
            row.spread,
            row.calibrated,
            row.disagreement,
            row.eliminated_by,
            asked.get(row.dossier_id, []),
        )
        for row in rows
    ]
    # One COPY of every line (the ORM's bulk_create prepares every value field by field: seconds
    # for 10,000 lines); psycopg writes Python lists as the columns' arrays.
    with connection.cursor() as cursor, cursor.cursor.copy(COPY_LINES) as copy:
        for line in lines:
            copy.write_row(line)
    RankingSnapshot.objects.bulk_create(
        [RankingSnapshot(call=call, version=version, settings_key=settings_key(), computed_at=timezone.now())],
        update_conflicts=True,
        unique_fields=["call"],
        update_fields=["version", "settings_key", "computed_at"],
    )
    with connection.cursor() as cursor:
        # Fresh statistics, or the planner may take a freshly filled table for a few rows and
        # sort the whole call for each page instead of walking the position index (57 ms
        # against 1 ms a page at 10,000).
        cursor.execute("ANALYZE reviews_rankeddossier")
        # The triggers bump a call's stamp once per transaction (they remember it in this
        # setting); a change made later in this same transaction must bump it again, past
        # what was just stored.
        cursor.execute("SELECT set_config(%s, '', true)", [f"ptce_ranking.call_{call.pk}"])


LINE_COLUMNS = (
    "dossier_id",
    "dossier__reference",
    "dossier__status",
    "dossier__consortium__name",
    "dossier__consortium__region",
    "dossier__consortium__territory_priority",
    "assigned",
    "totals",
    "raw_mean",
    "median",
    "spread",
    "calibrated",
    "disagreement",
    "eliminated_by",
    "requested",
)


def ranked_dossiers(call: Call, *, order: str = "calibrated", filters: dict | None = None) -> QuerySet:
    """The stored lines of the call in `order`, filtered as `rank_call` filters; call
    `fresh_ranking(call)` first. Each line's rank within the filtered list is its position there
    when `ranked_<order>` is true (ranked lines come first): see `with_ranks`. (Counting it joins
    nothing the filters do not need.)"""
    order = "raw" if order == "raw" else "calibrated"
    lines = RankedDossier.objects.filter(call=call).order_by(f"position_{order}")
    return filtered(lines, filters or {}, through="dossier__")


def with_ranks(lines: QuerySet, *, start: int, order: str) -> list[StoredLine]:
    """A page of `ranked_dossiers` as plain values, each line with its rank in the filtered list:
    `start` is the position of the page's first line in that list (1-based)."""
    order = "raw" if order == "raw" else "calibrated"
    values = lines.values_list(f"ranked_{order}", *LINE_COLUMNS)
    return [
        StoredLine(
            DossierLine(pk, reference, status, PoleLine(name, region, priority)),
            position if ranked else None,
            *scores,
        )
        for position, (ranked, pk, reference, status, name, region, priority, *scores) in enumerate(values, start=start)
    ]


@dataclass(slots=True)
class PoleLine:
    name: str
    region: str
    territory_priority: str

    @property
    def region_label(self) -> str:
        return REGION_LABELS.get(self.region, self.region)


@dataclass(slots=True)
class DossierLine:
    pk: int
    reference: str
    status: str
    consortium: PoleLine


@dataclass(slots=True)
class StoredLine:
    """A stored line read as plain values (the selection console reads every line of the call:
    three model instances a line would cost more than everything else of the page)."""

    dossier: DossierLine
    rank: int | None
    assigned: int
    totals: list[float]
    raw_mean: float | None
    median: float | None
    spread: float | None
    calibrated: float | None
    disagreement: bool
    eliminated_by: list[str]
    requested: list[int]

    @property
    def done(self) -> int:
        return len(self.totals)


def stored_ranking(call: Call, order: str = "calibrated") -> Ranking:
    """The whole ranking of the call from the stored lines, computed again first if it changed:
    what `rank_call(call, order=order, with_content=False)` returns, each row a `StoredLine`
    (the same attributes, plus the amounts asked; its dossier carries only what a list shows)."""
    order = "raw" if order == "raw" else "calibrated"
    fresh_ranking(call)
    return Ranking(call=call, rows=stored_lines(call, order), order=order)


def stored_lines(call: Call, order: str, start: int = 0, stop: int | None = None) -> list[StoredLine]:
    """The stored lines of `call` from `start` to `stop` (0-based, `stop` excluded) in `order`,
    as they are: call `fresh_ranking` first."""
    order = "raw" if order == "raw" else "calibrated"
    lines = ranked_dossiers(call, order=order).filter(**{f"position_{order}__gt": start})
    if stop is not None:
        lines = lines.filter(**{f"position_{order}__lte": stop})
    return with_ranks(lines, start=start + 1, order=order)
