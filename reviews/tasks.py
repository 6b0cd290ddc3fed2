from celery import shared_task

from jobs.services import OutboxTask

from . import services


@shared_task(
    base=OutboxTask,
    name="reviews.tasks.send_reviewer_reminder_task",
    autoretry_for=(Exception,),
    retry_backoff=30,
    retry_backoff_max=600,
    max_retries=8,
)
def send_reviewer_reminder_task(*, call_id: int, reviewer_id: int) -> int:
    return services.send_reviewer_reminder(call_id, reviewer_id)
