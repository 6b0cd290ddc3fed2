"""Which tables are chained, and how a row becomes a hash: the canonical form shared by the
writer and the verifier.

A row is hashed from what PostgreSQL stores, so the value written (the in-memory historical
instance) and the value read back by `verify_history` must serialize alike: every value goes
through its field's `to_python`, datetimes in UTC, decimals at the column's scale.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.contrib.postgres.fields import ArrayField
from django.db import models

GENESIS_HASH = "0" * 64

# Append-only tables of the record that have no simple-history table: each row is chained when
# created. Model label → (the column dating the row, the columns hashed; None: all of them).
# A submission is completed later (PDF, receipts sent): only what is frozen at submission counts.
RECORD_TABLES: dict[str, tuple[str, tuple[str, ...] | None]] = {
    "applications.Submission": (
        "submitted_at",
        ("content", "content_sha256", "dossier_id", "id", "reference", "submitted_at", "submitted_by_id", "version"),
    ),
    "applications.DossierEvent": ("at", None),
    "reviews.ReviewUnlock": ("at", None),
}


@dataclass(frozen=True)
class Chained:
    """A table whose rows are chained: a simple-history table, or an append-only record table."""

    model: type[models.Model]
    date_column: str
    columns: tuple[str, ...]
    historical: bool

    @property
    def label(self) -> str:
        return self.model._meta.label

    @property
    def table(self) -> str:
        return self.model._meta.db_table

    @property
    def id_column(self) -> str:
        return self.model._meta.pk.attname

    @property
    def row_name(self) -> str:
        return "entrée d'historique" if self.historical else "ligne"


@functools.cache
def chained_tables() -> tuple[Chained, ...]:
    """Every simple-history table of the project (all of them form the record of rule 7), then
    the append-only record tables."""
    tables = [
        Chained(model, "history_date", all_columns(model), historical=True)
        for model in apps.get_models()
        if is_historical(model)
    ]
    for label, (date_column, columns) in RECORD_TABLES.items():
        model = apps.get_model(label)
        tables.append(Chained(model, date_column, tuple(columns or all_columns(model)), historical=False))
    return tuple(tables)


@functools.cache
def chained_tables_by_label() -> dict[str, Chained]:
    return {table.label: table for table in chained_tables()}


def chained_table(model: type[models.Model]) -> Chained:
    return chained_tables_by_label()[model._meta.label]


def is_historical(model: type[models.Model]) -> bool:
    return getattr(model, "instance_type", None) is not None and any(
        field.name == "history_id" for field in model._meta.concrete_fields
    )


def all_columns(model: type[models.Model]) -> tuple[str, ...]:
    return tuple(sorted(field.attname for field in model._meta.concrete_fields))


def row_hash(model: type[models.Model], row: Mapping[str, Any], columns: Iterable[str]) -> str:
    """SHA-256 of the canonical JSON of `row` (attname → value) restricted to `columns`."""
    fields = {field.attname: field for field in model._meta.concrete_fields}
    payload = {
        "model": model._meta.label,
        "row": {column: _canonical(fields[column], row[column]) for column in columns},
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def entry_hash(previous: str, row_digest: str) -> str:
    """What the database trigger computes for a link (kept identical: see migration 0002)."""
    return hashlib.sha256((previous + row_digest).encode()).hexdigest()


def _canonical(field: models.Field, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(field, ArrayField):
        return [_canonical(field.base_field, item) for item in field.to_python(value)]
    if isinstance(field, models.JSONField):
        # Mirror the jsonb round trip: what the encoder writes is what comes back.
        return json.loads(json.dumps(value, cls=field.encoder))
    value = field.to_python(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        places = getattr(field, "decimal_places", None)
        return str(value.quantize(Decimal(1).scaleb(-places)) if places is not None else value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    if isinstance(value, models.Choices):
        return value.value
    return value
