"""Decision letters: their PDF (with the appeal notice) and their sending, each idempotent."""

from __future__ import annotations

import hashlib

from django.core.files.base import ContentFile
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from applications.pdf import render_pdf

from .models import DecisionLetter
from .services import letter_context


class LetterNotReady(Exception):
    """The PDF is not rendered yet; the send task retries later."""


def render_decision_letter(letter: DecisionLetter) -> bool:
    if letter.pdf_rendered_at:
        return False
    dossier = letter.decision.dossier
    pdf = render_pdf("awards/pdf/decision_letter.html", {**letter_context(letter.decision), "letter": letter})
    with transaction.atomic():
        letter = DecisionLetter.objects.select_for_update().get(pk=letter.pk)
        if letter.pdf_rendered_at:
            return False
        name = f"decisions/{dossier.call.slug}/{dossier.reference}-{hashlib.sha256(pdf).hexdigest()[:12]}.pdf"
        letter.pdf.save(name, ContentFile(pdf), save=False)
        letter.pdf_rendered_at = timezone.now()
        letter.save(update_fields=["pdf", "pdf_rendered_at"])
    return True


def send_decision_letter(letter: DecisionLetter) -> int:
    """Send the released letter to each recipient not served yet; recorded one by one, so a
    retry after a failure never sends twice to the same person."""
    if letter.released_at is None:
        return 0
    if not letter.pdf_rendered_at:
        raise LetterNotReady(f"letter {letter.pk}: PDF not rendered yet")
    sent = 0
    with letter.pdf.open("rb") as handle:
        pdf = handle.read()
    for recipient in letter.recipients:
        with transaction.atomic():
            locked = DecisionLetter.objects.select_for_update().get(pk=letter.pk)
            if recipient in locked.sent_to:
                continue
            message = EmailMessage(locked.subject, locked.body, to=[recipient])
            message.attach(f"decision-{locked.decision.dossier.reference}.pdf", pdf, "application/pdf")
            message.send()
            locked.sent_to = [*locked.sent_to, recipient]
            locked.save(update_fields=["sent_to"])
            sent += 1
    return sent
