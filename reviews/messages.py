"""The clarification thread of a submitted dossier: program staff ask, the team answers."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse

from accounts.roles import Role
from applications.models import Dossier
from applications.uploads import inspect_upload
from jobs.services import enqueue

from .models import Message


def post_message(dossier: Dossier, *, author, body: str, from_staff: bool, upload=None) -> Message:
    """Add a message to the dossier's thread (optionally with a file, checked like any upload)
    and notify the other side by e-mail through the outbox. The submitted version is untouched."""
    if not body.strip():
        raise ValidationError({"body": "Écrivez votre message."})
    if dossier.current_submission_id is None:
        raise ValidationError("Les questions portent sur un dossier déposé.")
    info = inspect_upload(upload, max_bytes=settings.ATTACHMENT_MAX_BYTES) if upload else None
    with transaction.atomic():
        message = Message(dossier=dossier, author=author, body=body.strip(), from_staff=from_staff)
        if info:
            message.attachment.save(f"messages/{dossier.pk}/{uuid.uuid4().hex}", upload, save=False)
            message.attachment_name = info.safe_name
            message.attachment_sha256 = info.sha256
        message.save()
        message.read_by.add(author)
        enqueue("reviews.tasks.send_message_notification_task", key=f"message:{message.pk}", message_id=message.pk)
    return message


def mark_thread_read(dossier: Dossier, user) -> None:
    """Two queries whatever the number of unread messages (the read marks are not historised)."""
    through = Message.read_by.through
    unread = dossier.messages.exclude(read_by=user).values_list("pk", flat=True)
    through.objects.bulk_create(
        [through(message_id=message_id, user_id=user.pk) for message_id in unread], ignore_conflicts=True
    )


def unread_count(dossier: Dossier, user) -> int:
    return dossier.messages.exclude(read_by=user).count()


def send_message_notification(message: Message) -> int:
    dossier = message.dossier
    if message.from_staff:
        recipients = list(dossier.consortium.memberships.values_list("user__email", flat=True))
        url = settings.SITE_URL + reverse("reviews:team-thread", args=[dossier.pk])
    else:
        recipients = list(
            get_user_model()
            .objects.filter(is_active=True, groups__name=Role.PROGRAM_STAFF.label)
            .values_list("email", flat=True)
        )
        url = settings.SITE_URL + reverse("reviews:staff-thread", args=[dossier.pk])
    if not recipients:
        return 0
    context = {"message": message, "dossier": dossier, "url": url}
    send_mail(
        render_to_string("emails/message_subject.txt", context).strip(),
        render_to_string("emails/message_body.txt", context),
        None,
        recipients,
    )
    return len(recipients)
