"""The outbox: record background work with the change that needs it, then hand it to Celery."""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading

from celery import Task
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from ptce_portal.celery import app

from .models import Heartbeat, Job

logger = logging.getLogger(__name__)


# --- Sending after the response ---
# Handing jobs to the broker costs a round trip to Redis per job (≈ 3 ms each). During a request
# it is done once the response has been handed to the server (Django sends request_finished when
# the server closes the response, after its last byte): the user does not wait for it. The job
# is already committed in the outbox, so a worker killed in between loses nothing (the sweep
# sends it). Outside requests (tasks, commands, shell) it is done at once. The receivers are
# connected in JobsConfig.ready().
_request = threading.local()


def _start_collecting(**_kwargs) -> None:
    _send_collected()  # left over by a request that never finished (should not happen)
    _request.after_response = []


def _send_collected(**_kwargs) -> None:
    pending, _request.after_response = getattr(_request, "after_response", None), None
    for send in pending or ():
        try:
            send()
        except Exception:  # the next one must still go; the job stays pending for the sweep
            logger.exception("sending jobs after the response failed")


def _send_after_commit(send) -> None:
    def committed():
        collected = getattr(_request, "after_response", None)
        if collected is None:
            send()
        else:
            collected.append(send)

    transaction.on_commit(committed)


def enqueue(task_name: str, *, key: str | None = None, **kwargs) -> Job:
    """Record a job in the current transaction and send it to the broker after commit (after
    the response, during a request).

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
    _send_after_commit(lambda: dispatch(job.pk))
    return job


# One statement for many jobs: the keys already recorded are skipped (never an error that would
# abort the caller's transaction), the ids of the new ones come back.
INSERT_JOBS_SQL = """
INSERT INTO jobs_job (task_name, kwargs, key, status, created_at, dispatch_count, last_error)
SELECT job.task_name, job.kwargs::jsonb, job.key, %(pending)s, %(now)s, 0, ''
FROM unnest(%(task_names)s::text[], %(kwargs)s::text[], %(keys)s::text[]) AS job(task_name, kwargs, key)
ON CONFLICT (key) DO NOTHING
RETURNING id, key
"""


def enqueue_many(jobs: list[tuple[str, str, dict]]) -> list[int]:
    """`enqueue` for many keyed jobs, `(task_name, key, kwargs)` each, in one query whatever their
    number; they are sent after commit, with one stamp for all. A key already recorded
    is left as it is. Returns the ids of the jobs created."""
    if not jobs:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            INSERT_JOBS_SQL,
            {
                "pending": Job.Status.PENDING,
                "now": timezone.now(),
                "task_names": [task_name for task_name, _key, _kwargs in jobs],
                "kwargs": [json.dumps(kwargs, cls=DjangoJSONEncoder) for _task_name, _key, kwargs in jobs],
                "keys": [key for _task_name, key, _kwargs in jobs],
            },
        )
        wanted = {key: (task_name, kwargs) for task_name, key, kwargs in jobs}
        created = {job_id: wanted[key] for job_id, key in cursor.fetchall()}
    if created:
        # Jobs just created are pending: sent as they are, without reading them back.
        _send_after_commit(lambda: dispatch_many(list(created), jobs=created))
    return list(created)


def dispatch_many(job_ids: list[int], *, jobs: dict[int, tuple[str, dict]] | None = None) -> int:
    """dispatch() for many jobs: one read (none when the caller has `jobs`, id -> (task name,
    kwargs), of jobs it just created) and one stamp for all of them. Returns how many were sent."""
    if jobs is None:
        pending = Job.objects.filter(pk__in=job_ids, status=Job.Status.PENDING).order_by("created_at", "pk")
        jobs = {job.pk: (job.task_name, job.kwargs) for job in pending}
    sent = []
    for job_id, (task_name, kwargs) in jobs.items():
        try:
            # The job row is the task's result. Sent by name, the task's own ignore_result is not
            # known here: Celery would subscribe this (web) process to the Redis channel of each
            # task's result, then unsubscribe once the unread result object is collected.
            app.send_task(task_name, kwargs={**kwargs, "job_id": job_id}, ignore_result=True)
        except Exception as error:  # noqa: BLE001 - a broker outage is expected and handled by the sweep
            logger.warning("job %s not sent, will be retried by the sweep: %s", job_id, error)
            Job.objects.filter(pk=job_id).update(last_error=f"Envoi impossible : {error}"[:2000])
            continue
        sent.append(job_id)
    if sent:
        Job.objects.filter(pk__in=sent).update(dispatched_at=timezone.now(), dispatch_count=F("dispatch_count") + 1)
    return len(sent)


def dispatch(job_id: int) -> bool:
    """Send a pending job to the broker; False (and nothing lost) when the broker is down."""
    return dispatch_many([job_id]) == 1


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
    return dispatch_many(ids)


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
