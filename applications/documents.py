"""Documents of a submitted version: its archival PDF and the receipts e-mailed to the team.

Both read only the frozen snapshot (`Submission.content`) and the row's own immutable fields,
never the live dossier: a submitted version is shown exactly as submitted, forever.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from .models import Membership, Submission
from .pdf import render_pdf
from .sections import format_euros

PARIS = ZoneInfo("Europe/Paris")
MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
PDF_TEMPLATE = "applications/pdf/submission.html"


def format_paris_datetime(moment: dt.datetime) -> str:
    """French long form in Paris time, to the second: « 30 octobre 2013 à 23:59:59 »."""
    local = moment.astimezone(PARIS)
    day = "1er" if local.day == 1 else str(local.day)
    return f"{day} {MONTHS[local.month - 1]} {local.year} à {local:%H:%M:%S}"


def _parse_moment(value: str | None) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(value) if value else None
    except ValueError:
        return None
    return moment if moment is None or timezone.is_aware(moment) else None


def _amount_line(line: dict) -> dict:
    return {
        "label": line.get("label", ""),
        "amounts": [format_euros(amount) for amount in line.get("amounts", [])],
        "total": format_euros(line.get("total", 0)),
    }


def _budget_context(budget: dict | None) -> dict | None:
    if not budget:
        return None
    totals = budget.get("totals", {})
    requested = budget.get("requested", {})
    return {
        # Strings: an int would get a thousands separator in the template (« 2 014 »).
        "years": [str(year) for year in budget.get("years", [])],
        "expenses": [_amount_line(line) for line in budget.get("expenses", [])],
        "cofunding": [_amount_line(line) for line in budget.get("cofunding", [])],
        "requested": [format_euros(amount) for amount in requested.get("amounts", [])],
        "requested_total": format_euros(requested.get("total", 0)),
        "costs": [format_euros(amount) for amount in totals.get("costs", [])],
        "costs_total": format_euros(totals.get("costs_total", 0)),
        "resources": [format_euros(amount) for amount in totals.get("resources", [])],
        "resources_total": format_euros(totals.get("resources_total", 0)),
    }


def _sizes(size: int) -> dict:
    """« 277,8 Kio » to read, « 284 513 octets » to check the file."""
    with translation.override("fr"):
        readable = filesizeformat(size)
    return {"size_display": readable, "size_exact": f"{size:,}".replace(",", "\u202f") + "\u00a0octets"}


def submission_pdf_context(submission: Submission) -> dict:
    """What the PDF template shows, from the snapshot, with dates and amounts already formatted."""
    content = submission.content
    organisations = content.get("organisations", [])
    sworn = content.get("sworn_statement") or {}
    sworn_at = _parse_moment(sworn.get("at"))
    return {
        "reference": submission.reference,
        "version": submission.version,
        "content_sha256": submission.content_sha256,
        "submitted_at_display": format_paris_datetime(submission.submitted_at),
        # W3C date for the PDF's metadata: the submission instant, so re-rendering is byte-identical.
        "created_w3c": submission.submitted_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "call": content.get("call", {}),
        "consortium": content.get("consortium", {}),
        "lead": next((org for org in organisations if org.get("is_lead")), None),
        "organisations": organisations,
        "sections": content.get("sections", []),
        "budget": _budget_context(content.get("budget")),
        "attachments": [
            {**attachment, **_sizes(attachment.get("size", 0))} for attachment in content.get("attachments", [])
        ],
        "sworn_statement": {**sworn, "at_display": format_paris_datetime(sworn_at) if sworn_at else ""}
        if sworn
        else None,
    }


def render_submission_pdf(submission: Submission | int) -> bool:
    """Render a submitted version's PDF once and store it; return False if it already exists.

    Rendering takes most of a second, so it runs outside any transaction; the row is then locked
    and checked again before storing. Two concurrent runs may both render, but only the first to
    lock stores its file and sets `pdf_rendered_at`; the other drops its bytes. The bytes depend
    only on the snapshot, so whichever run wins, the PDF is the same.
    """
    pk = submission.pk if isinstance(submission, Submission) else submission
    current = Submission.objects.get(pk=pk)
    if current.pdf_rendered_at is not None:
        return False
    pdf_bytes = render_pdf(PDF_TEMPLATE, submission_pdf_context(current))

    with transaction.atomic():
        locked = Submission.objects.select_for_update().get(pk=pk)
        if locked.pdf_rendered_at is not None:
            return False
        name = f"submissions/{locked.dossier_id}/{locked.reference}.pdf"
        storage = locked.pdf.storage
        if storage.exists(name):
            # Left by an attempt whose transaction failed after writing the file: nothing refers
            # to it (pdf_rendered_at is still empty under the lock), so take its name back.
            storage.delete(name)
        locked.pdf.save(name, ContentFile(pdf_bytes), save=False)
        locked.pdf_sha256 = hashlib.sha256(pdf_bytes).hexdigest()
        locked.pdf_rendered_at = timezone.now()
        locked.save(update_fields=["pdf", "pdf_sha256", "pdf_rendered_at"])
    return True


def send_submission_receipts(submission: Submission | int) -> int:
    """E-mail a receipt for a submitted version to every active member of the pole's team, once.

    Returns the number of messages sent (0 if the receipts were already sent). One message per
    recipient, so members do not see each other's addresses. The row stays locked while sending:
    a concurrent run waits, then finds `receipts_sent_at` set and sends nothing. If the mail
    server fails halfway, nothing is recorded and a retry sends to everyone again: a duplicate
    receipt is better than a missing one.
    """
    pk = submission.pk if isinstance(submission, Submission) else submission
    with transaction.atomic():
        locked = Submission.objects.select_for_update().get(pk=pk)
        if locked.receipts_sent_at is not None:
            return 0
        recipients = list(
            Membership.objects.filter(consortium__dossiers__pk=locked.dossier_id, user__is_active=True)
            .order_by("user__email")
            .values_list("user__email", flat=True)
            .distinct()
        )
        subject, body = _receipt_text(locked)
        messages = [EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [email]) for email in recipients]
        sent = get_connection().send_messages(messages) if messages else 0
        locked.receipts_sent_at = timezone.now()
        locked.save(update_fields=["receipts_sent_at"])
    return sent or 0


def _receipt_text(submission: Submission) -> tuple[str, str]:
    content = submission.content
    context = {
        "reference": submission.reference,
        "version": submission.version,
        "pole_name": content.get("consortium", {}).get("name", ""),
        "call_title": content.get("call", {}).get("title", ""),
        "submitted_at_display": format_paris_datetime(submission.submitted_at),
        "content_sha256": submission.content_sha256,
        "url": settings.SITE_URL.rstrip("/")
        + reverse("applications:submission-detail", args=[submission.dossier_id, submission.version]),
    }
    with translation.override("fr"):
        subject = render_to_string("emails/submission_receipt_subject.txt", context)
        body = render_to_string("emails/submission_receipt_body.txt", context)
    # A header line: a template's trailing newline must not become a header injection error.
    return " ".join(subject.split()), body
