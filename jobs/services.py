"""The outbox: record background work with the change that needs it, then hand it to Celery."""

from __future__ import annotations

import datetime as dt
import logging

from celery import Task
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from ptce_portal.celery import app

from .models import Heartbeat, Job

logger = logging.getLogger(__name__)


def enqueue(task_name: str, *, key: str | None = None, **kwargs) -> Job:
    """Record a job in the current transaction and send it to the broker after commit.

    With a `key`, the same work is recorded once whatever the number of calls. If the broker
    is unreachable the job simply stays pending: the sweep sends it later.
    """
    if key is not None:
        existing = Job.objects.filter(key=key).first()
        if existing is not None:
            return existing
    try:
        with transaction.atomic():
            job = Job.objects.create(task_name=task_name, kwargs=kwargs, key=key)
    except IntegrityError:  # the same key recorded concurrently
        return Job.objects.get(key=key)
    transaction.on_commit(lambda: dispatch(job.pk))
    return job


def dispatch(job_id: int) -> bool:
    """Send a pending job to the broker; False (and nothing lost) when the broker is down."""
    job = Job.objects.filter(pk=job_id, status=Job.Status.PENDING).first()
    if job is None:
        return False
    try:
        app.send_task(job.task_name, kwargs={**job.kwargs, "job_id": job.pk})
    except Exception as error:  # noqa: BLE001 - a broker outage is expected and handled by the sweep
        logger.warning("job %s not sent, will be retried by the sweep: %s", job.pk, error)
        Job.objects.filter(pk=job.pk).update(last_error=f"Envoi impossible : {error}"[:2000])
        return False
    Job.objects.filter(pk=job.pk).update(dispatched_at=timezone.now(), dispatch_count=F("dispatch_count") + 1)
    return True


def sweep_outbox(*, now: dt.datetime | None = None) -> int:
    """Send again every pending job never sent, or sent long enough ago that its message may
    have been lost (Redis restarted empty, worker killed). Returns how many were sent."""
    now = now or timezone.now()
    stale = now - dt.timedelta(seconds=settings.OUTBOX_REDISPATCH_AFTER)
    with transaction.atomic():
        # skip_locked plus the stamp below: two sweeps at once (two beats by mistake) split the
        # work instead of sending everything twice.
        ids = list(
            Job.objects.pending()
            .filter(Q(dispatched_at__isnull=True) | Q(dispatched_at__lt=stale))
            .select_for_update(skip_locked=True)
            .order_by("created_at")
            .values_list("pk", flat=True)[: settings.OUTBOX_SWEEP_BATCH]
        )
        Job.objects.filter(pk__in=ids).update(dispatched_at=now)
    return sum(dispatch(job_id) for job_id in ids)


def retry_job(job: Job) -> bool:
    """Staff retry of a failed job (from the admin), once its cause is fixed."""
    Job.objects.filter(pk=job.pk).update(status=Job.Status.PENDING, finished_at=None)
    return dispatch(job.pk)


def mark_done(job_id: int) -> None:
    Job.objects.filter(pk=job_id).exclude(status=Job.Status.DONE).update(
        status=Job.Status.DONE, finished_at=timezone.now(), last_error=""
    )


def mark_failed(job_id: int, error: BaseException) -> None:
    Job.objects.filter(pk=job_id).exclude(status=Job.Status.DONE).update(
        status=Job.Status.FAILED, finished_at=timezone.now(), last_error=f"{type(error).__name__}: {error}"[:2000]
    )


def record_heartbeat(name: str) -> None:
    Heartbeat.objects.update_or_create(name=name, defaults={"at": timezone.now()})


# Retry policy of every outbox task: 30 s, 1, 2, 4, 8 min, then every 10 min (jittered), about
# 45 minutes in all, to ride out a mail server or storage outage before the job is marked
# failed for staff to retry. Acknowledged once done: a worker lost mid-task leaves it to be
# redelivered.
OUTBOX_RETRY = {
    "autoretry_for": (Exception,),
    "retry_backoff": 30,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 8,
    "acks_late": True,
}


class OutboxTask(Task):
    """Base class of tasks sent through the outbox: the job is marked done on success and
    failed (with its error, visible in the admin) once retries are exhausted."""

    def __call__(self, *args, **kwargs):
        kwargs.pop("job_id", None)
        return super().__call__(*args, **kwargs)

    def on_success(self, retval, task_id, args, kwargs):
        if kwargs.get("job_id"):
            mark_done(kwargs["job_id"])

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        if kwargs.get("job_id"):
            mark_failed(kwargs["job_id"], exc)
