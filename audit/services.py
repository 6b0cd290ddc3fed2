"""Writes of the audit app: the daily digest and sealing rows written without the portal's signal."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from django.db import models, transaction
from django.utils import timezone

from .chain import GENESIS_HASH, Chained, chained_table, chained_tables, row_hash
from .models import AuditDigest, ChainLink

logger = logging.getLogger(__name__)


def record_digest(*, on: dt.date | None = None) -> AuditDigest:
    """Record the chain's head as the digest of `on` (today, Paris time), once per day.

    The hash also goes to the logs, which are kept outside the database: a copy an intruder who
    rewrites the chain cannot also rewrite. Running it twice the same day keeps the first digest.
    """
    on = on or timezone.localdate()
    head = ChainLink.objects.filter(sequence__isnull=False).order_by("-sequence").first()
    digest, created = AuditDigest.objects.get_or_create(
        date=on,
        defaults={
            "last_sequence": head.sequence if head else 0,
            "head_hash": head.entry_hash if head else GENESIS_HASH,
        },
    )
    if created:
        logger.info(
            "history digest %s: link %s, head %s", digest.date.isoformat(), digest.last_sequence, digest.head_hash
        )
    return digest


def link_rows(instances: Iterable[models.Model], *, using: str | None = None) -> int:
    """Write the links of freshly created chained rows, in one INSERT, in the caller's transaction.

    simple-history's signal covers `save()` and `delete()`, and `post_save` the record tables;
    code that writes history in bulk (`bulk_create_with_history`, `history.bulk_history_create`,
    `bulk_create` of a record table) sends no signal and must pass the rows it created here,
    or `verify_history` reports them as unchained.
    """
    links = []
    for instance in instances:
        table = chained_table(type(instance))
        row = {column: getattr(instance, column) for column in table.columns}
        links.append(_link(table, row))
    ChainLink.objects.using(using or "default").bulk_create(links)
    return len(links)


def seal_unchained_history(*, batch_size: int = 2000) -> int:
    """Chain the rows that have no link yet, table by table, oldest first; returns how many.

    For rows written before the audit app was installed or in bulk without `link_rows` (the
    dataset generator). Sealing vouches for rows as they are now: run it only right after such an
    import, never to silence `verify_history`.
    """
    sealed = 0
    for table in chained_tables():
        linked = ChainLink.objects.filter(model=table.label).values("history_id")
        rows = (
            table.model.objects.exclude(pk__in=linked)
            .order_by(table.date_column, "pk")
            .values(*table.columns)
            .iterator(chunk_size=batch_size)
        )
        batch: list[ChainLink] = []
        for row in rows:
            batch.append(_link(table, row))
            if len(batch) >= batch_size:
                sealed += _insert(batch)
                batch = []
        sealed += _insert(batch)
    return sealed


def _link(table: Chained, row: dict) -> ChainLink:
    return ChainLink(
        model=table.label,
        history_id=row[table.id_column],
        columns=" ".join(table.columns),
        row_hash=row_hash(table.model, row, table.columns),
    )


def _insert(links: list[ChainLink]) -> int:
    # One transaction per batch: the deferred trigger chains the batch when it commits.
    with transaction.atomic():
        ChainLink.objects.bulk_create(links)
    return len(links)
