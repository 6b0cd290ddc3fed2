from celery import shared_task

from jobs.services import OutboxTask

from . import letters
from .models import DecisionLetter

RETRY_OPTIONS = {
    "autoretry_for": (Exception,),
    "retry_backoff": 30,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 8,
    "acks_late": True,
}


@shared_task(base=OutboxTask, name="awards.tasks.render_decision_letter_task", **RETRY_OPTIONS)
def render_decision_letter_task(*, letter_id: int) -> bool:
    letter = DecisionLetter.objects.filter(pk=letter_id).first()
    return letters.render_decision_letter(letter) if letter else False


@shared_task(base=OutboxTask, name="awards.tasks.send_decision_letter_task", **RETRY_OPTIONS)
def send_decision_letter_task(*, letter_id: int) -> int:
    letter = DecisionLetter.objects.filter(pk=letter_id).first()
    return letters.send_decision_letter(letter) if letter else 0
