"""Periodic bookkeeping of the history chain, from beat."""

from __future__ import annotations

from celery import shared_task

from .services import record_digest


@shared_task(name="audit.tasks.record_digest_task", ignore_result=True)
def record_digest_task() -> int:
    """Idempotent: a second run the same day keeps the first digest."""
    return record_digest().last_sequence
