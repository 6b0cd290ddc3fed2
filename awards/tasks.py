from celery import shared_task

from jobs.services import OUTBOX_RETRY, OutboxTask

from . import letters, proposals
from .models import DecisionLetter


@shared_task(base=OutboxTask, name="awards.tasks.render_decision_letter_task", **OUTBOX_RETRY)
def render_decision_letter_task(*, letter_id: int) -> bool:
    letter = DecisionLetter.objects.filter(pk=letter_id).first()
    return letters.render_decision_letter(letter) if letter else False


@shared_task(base=OutboxTask, name="awards.tasks.send_decision_letter_task", **OUTBOX_RETRY)
def send_decision_letter_task(*, letter_id: int) -> int:
    letter = DecisionLetter.objects.filter(pk=letter_id).first()
    return letters.send_decision_letter(letter) if letter else 0


@shared_task(base=OutboxTask, name="awards.tasks.propose_selection_task", **OUTBOX_RETRY)
def propose_selection_task(*, cache_key: str) -> bool:
    return proposals.solve_pending(cache_key)
