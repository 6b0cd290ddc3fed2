"""Celery tasks: thin wrappers that fetch by id and call one service.

Queues come from CELERY_TASK_ROUTES (render_* → pdf, send_* → email). The submit service sends
these tasks through the outbox (`jobs.services.enqueue`): OutboxTask drops the `job_id` argument
and marks the job done, or failed once retries are exhausted. The services check and record
`pdf_rendered_at` / `receipts_sent_at` under a row lock, so a redelivered, retried or re-swept
task does nothing twice.
"""

from __future__ import annotations

from celery import shared_task

from jobs.services import OUTBOX_RETRY, OutboxTask

from . import deadlines
from .attachments import scan_attachment
from .documents import render_submission_pdf, send_submission_receipts
from .models import Submission


@shared_task(base=OutboxTask, name="applications.tasks.render_submission_pdf_task", **OUTBOX_RETRY)
def render_submission_pdf_task(*, submission_id: int) -> bool:
    submission = Submission.objects.filter(pk=submission_id).first()
    if submission is None:
        return False
    return render_submission_pdf(submission)


@shared_task(base=OutboxTask, name="applications.tasks.send_submission_receipts_task", **OUTBOX_RETRY)
def send_submission_receipts_task(*, submission_id: int) -> int:
    submission = Submission.objects.filter(pk=submission_id).first()
    if submission is None:
        return 0
    return send_submission_receipts(submission)


@shared_task(base=OutboxTask, name="applications.tasks.send_closing_summary_task", **OUTBOX_RETRY)
def send_closing_summary_task(*, call_id: int) -> int:
    return deadlines.send_closing_summary(call_id)


@shared_task(base=OutboxTask, name="applications.tasks.send_reminder_task", **OUTBOX_RETRY)
def send_reminder_task(*, dossier_id: int, kind: str) -> int:
    return deadlines.send_reminder(dossier_id, kind)


@shared_task(base=OutboxTask, name="applications.tasks.scan_attachment_task", **OUTBOX_RETRY)
def scan_attachment_task(*, attachment_id: int) -> str | None:
    # clamd still down raises AntivirusUnavailable: retried with backoff, then "En échec" for staff.
    return scan_attachment(attachment_id)


# Periodic bookkeeping, from beat. Idempotent: running late, twice or concurrently is harmless.


@shared_task(name="applications.tasks.close_due_calls_task", ignore_result=True)
def close_due_calls_task() -> list[int]:
    return deadlines.close_due_calls()


@shared_task(name="applications.tasks.send_due_reminders_task", ignore_result=True)
def send_due_reminders_task() -> int:
    return deadlines.send_due_reminders()
