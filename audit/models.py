"""The hash chain over the portal's history (rule 7) and its daily digests."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class ChainLink(models.Model):
    """One historical row, chained to the row before it.

    The portal writes `row_hash` (SHA-256 of a canonical JSON of the historical row) in the same
    transaction as the row. A deferred PostgreSQL trigger (migration 0002) then gives the link its
    `sequence` and `entry_hash` = SHA-256(previous entry_hash + row_hash) at commit time, under an
    advisory lock: the chain follows commit order and no lock is held while the transaction works.
    """

    sequence = models.BigIntegerField("maillon n°", null=True, blank=True, unique=True, editable=False)
    model = models.CharField("historique", max_length=100)
    history_id = models.BigIntegerField("entrée d'historique n°")
    # The columns hashed, in order: a column added to the table later is not part of old rows' hash.
    columns = models.TextField("colonnes")
    row_hash = models.CharField("empreinte de l'entrée", max_length=64)
    entry_hash = models.CharField("empreinte du maillon", max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField("enregistré le", default=timezone.now)
    chained_at = models.DateTimeField("chaîné le", null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "maillon de l'historique"
        verbose_name_plural = "maillons de l'historique"
        ordering = ["sequence"]
        constraints = [models.UniqueConstraint(fields=["model", "history_id"], name="chainlink_once_per_row")]

    def __str__(self) -> str:
        return f"n° {self.sequence} — {self.model} #{self.history_id}"


class AuditDigest(models.Model):
    """The head of the chain at the end of a day. Its hash is also written to the logs, so a copy
    lives outside the database: rewriting the whole chain afterwards no longer matches it."""

    date = models.DateField("date", unique=True)
    last_sequence = models.BigIntegerField("dernier maillon n°")
    head_hash = models.CharField("empreinte", max_length=64)
    recorded_at = models.DateTimeField("enregistrée le", default=timezone.now)

    class Meta:
        verbose_name = "empreinte quotidienne de l'historique"
        verbose_name_plural = "empreintes quotidiennes de l'historique"
        ordering = ["-date"]

    def __str__(self) -> str:
        return f"{self.date:%d/%m/%Y} — n° {self.last_sequence}"
