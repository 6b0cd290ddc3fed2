"""Recompute the chain from the historical tables and say where it breaks (`manage.py verify_history`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.utils import timezone

from .chain import GENESIS_HASH, Chained, all_columns, chained_tables_by_label, entry_hash, row_hash
from .models import AuditDigest, ChainLink

CHUNK = 5000


@dataclass(frozen=True)
class Anomaly:
    """One break in the record, described for the operator in French."""

    problem: str
    sequence: int | None = None
    table: str = ""
    row_name: str = "entrée d'historique"
    history_id: int | None = None
    moment: dt.datetime | None = None

    def sort_key(self) -> tuple:
        return (self.sequence is None, self.sequence or 0, self.moment or dt.datetime.max.replace(tzinfo=dt.UTC))

    def __str__(self) -> str:
        parts = []
        if self.sequence is not None:
            parts.append(f"maillon n° {self.sequence}")
        if self.table:
            parts.append(f"table {self.table}")
        if self.history_id is not None:
            parts.append(f"{self.row_name} n° {self.history_id}")
        where = ", ".join(parts)
        if self.moment is not None:
            local = timezone.localtime(self.moment)
            where = f"{where} du {local:%d/%m/%Y} à {local:%H:%M:%S} (heure de Paris)".strip()
        return f"{where} : {self.problem}" if where else self.problem


@dataclass
class Report:
    links: int = 0
    last_sequence: int = 0
    head_hash: str = GENESIS_HASH
    digests: int = 0
    anomalies: list[Anomaly] = field(default_factory=list)

    @property
    def first(self) -> Anomaly | None:
        return min(self.anomalies, key=Anomaly.sort_key) if self.anomalies else None


def verify_history() -> Report:
    """Check the links follow each other, each historical row still has its hash, no row escaped
    the chain, and each daily digest still matches the chain. Reads only."""
    report = Report()
    digests = {}
    for digest in AuditDigest.objects.order_by("date"):
        digests.setdefault(digest.last_sequence, []).append(digest)
    seen_digest_sequences = _check_links(report, digests)
    for sequence, day_digests in digests.items():
        for digest in day_digests:
            report.digests += 1
            if sequence == 0 and digest.head_hash == GENESIS_HASH:
                continue
            if seen_digest_sequences.get(sequence) != digest.head_hash:
                report.anomalies.append(
                    Anomaly(
                        f"l'empreinte quotidienne du {digest.date:%d/%m/%Y} ne correspond plus à la chaîne "
                        "(maillon absent ou chaîne recalculée depuis)",
                        sequence=sequence or None,
                    )
                )
    by_label = chained_tables_by_label()
    for table in by_label.values():
        _check_rows(report, table)
    for label in ChainLink.objects.exclude(model__in=list(by_label)).values_list("model", flat=True).distinct():
        report.anomalies.append(Anomaly(f"des maillons couvrent un historique qui n'existe plus ({label})"))
    return report


def _check_links(report: Report, digests: dict) -> dict[int, str]:
    previous_hash, expected, previous_at = GENESIS_HASH, 1, None
    at_digests: dict[int, str] = {}
    links = (
        ChainLink.objects.filter(sequence__isnull=False)
        .order_by("sequence")
        .values_list("sequence", "model", "history_id", "row_hash", "entry_hash", "created_at")
        .iterator(chunk_size=CHUNK)
    )
    for sequence, label, history_id, row_digest, stored, created_at in links:
        report.links += 1
        if sequence != expected:
            missing = f"n° {expected}" if sequence == expected + 1 else f"n° {expected} à {sequence - 1}"
            report.anomalies.append(
                Anomaly(
                    f"maillon(s) {missing} supprimé(s) de la chaîne{_after(previous_at)}",
                    sequence=expected,
                )
            )
        elif entry_hash(previous_hash, row_digest) != stored:
            report.anomalies.append(
                Anomaly(
                    "l'empreinte du maillon ne suit pas celle du maillon précédent (maillon modifié)",
                    sequence=sequence,
                    **_where(label),
                    history_id=history_id,
                    moment=created_at,
                )
            )
        if sequence in digests:
            at_digests[sequence] = stored
        previous_hash, expected, previous_at = stored, sequence + 1, created_at
    report.last_sequence, report.head_hash = expected - 1, previous_hash
    for label, history_id, created_at in ChainLink.objects.filter(sequence__isnull=True).values_list(
        "model", "history_id", "created_at"
    ):
        report.anomalies.append(
            Anomaly(
                "maillon jamais chaîné (le déclencheur de la base a-t-il été désactivé ?)",
                **_where(label),
                history_id=history_id,
                moment=created_at,
            )
        )
    return at_digests


def _check_rows(report: Report, table: Chained) -> None:
    """Merge the table's rows and its links, both ordered by row id."""
    current = set(all_columns(table.model))
    links = _iterate(
        ChainLink.objects.filter(model=table.label)
        .order_by("history_id")
        .values_list("history_id", "sequence", "columns", "row_hash", "created_at")
    )
    rows = _iterate(table.model.objects.order_by("pk").values(*sorted(current)))
    link, row = next(links, None), next(rows, None)
    while link is not None or row is not None:
        row_id = row[table.id_column] if row is not None else None
        if row is None or (link is not None and link[0] < row_id):
            history_id, sequence, _, _, created_at = link
            report.anomalies.append(
                Anomaly(
                    f"{table.row_name} supprimée (le maillon existe, la ligne a disparu)",
                    sequence=sequence,
                    table=table.table,
                    row_name=table.row_name,
                    history_id=history_id,
                    moment=created_at,
                )
            )
            link = next(links, None)
        elif link is None or row_id < link[0]:
            report.anomalies.append(
                Anomaly(
                    f"{table.row_name} sans maillon (écrite hors du portail, ou import à sceller)",
                    table=table.table,
                    row_name=table.row_name,
                    history_id=row_id,
                    moment=row[table.date_column],
                )
            )
            row = next(rows, None)
        else:
            history_id, sequence, columns, stored, _ = link
            hashed = columns.split()
            if not set(hashed) <= current:
                problem = f"colonne(s) disparue(s) de la table : {', '.join(sorted(set(hashed) - current))}"
            elif row_hash(table.model, row, hashed) != stored:
                problem = f"{table.row_name} modifiée depuis son enregistrement"
            else:
                problem = ""
            if problem:
                report.anomalies.append(
                    Anomaly(
                        problem,
                        sequence=sequence,
                        table=table.table,
                        row_name=table.row_name,
                        history_id=history_id,
                        moment=row[table.date_column],
                    )
                )
            link, row = next(links, None), next(rows, None)


def _iterate(queryset) -> Iterator:
    return iter(queryset.iterator(chunk_size=CHUNK))


def _where(label: str) -> dict:
    table = chained_tables_by_label().get(label)
    return {"table": table.table, "row_name": table.row_name} if table else {"table": label}


def _after(moment: dt.datetime | None) -> str:
    if moment is None:
        return " (en tête de chaîne)"
    return f", après le maillon enregistré le {timezone.localtime(moment):%d/%m/%Y à %H:%M:%S}"
