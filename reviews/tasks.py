from celery import shared_task

from jobs.services import OUTBOX_RETRY, OutboxTask

from . import services


@shared_task(
    base=OutboxTask,
    name="reviews.tasks.send_reviewer_reminder_task",
    **OUTBOX_RETRY,
)
def send_reviewer_reminder_task(*, call_id: int, reviewer_id: int) -> int:
    return services.send_reviewer_reminder(call_id, reviewer_id)


@shared_task(
    base=OutboxTask,
    name="reviews.tasks.send_message_notification_task",
    **OUTBOX_RETRY,
)
def send_message_notification_task(*, message_id: int) -> int:
    from .messages import send_message_notification
    from .models import Message

    message = Message.objects.filter(pk=message_id).select_related("dossier__consortium").first()
    return send_message_notification(message) if message else 0


# Periodic bookkeeping, from beat. Idempotent: running late, twice or concurrently is harmless.


@shared_task(name="reviews.tasks.refresh_rankings_task", ignore_result=True)
def refresh_rankings_task() -> int:
    from .ranking_store import refresh_stale

    return refresh_stale()
