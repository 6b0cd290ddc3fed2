"""Queueing background work after the current transaction commits.

Tasks are named by their dotted path so services do not import task modules (and Celery)
at import time; `send_task` goes through the broker exactly like `.delay()`.
"""

from __future__ import annotations

import logging

from django.db import transaction

from .celery import app

logger = logging.getLogger(__name__)


def enqueue_after_commit(task_name: str, **kwargs) -> None:
    def send() -> None:
        try:
            app.send_task(task_name, kwargs=kwargs)
        except Exception:
            logger.exception("could not queue %s(%s)", task_name, kwargs)

    transaction.on_commit(send)
