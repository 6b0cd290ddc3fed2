"""Attachments of a dossier's working copy: add, remove, and what is still missing.

An attachment is never deleted: removing it only sets `removed_at`, because a submitted
version may refer to its file. "Live" attachments are those not removed.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet, Sum
from django.utils import timezone

from .models import Attachment, AttachmentType, Call, Dossier
from .services import ensure_editable
from .uploads import format_size_limit, inspect_upload

logger = logging.getLogger(__name__)


def max_attachment_bytes(call: Call) -> int:
    """The size limit of one file for this call: its own, or the portal's default."""
    return call.max_attachment_size or settings.ATTACHMENT_MAX_BYTES


def live_attachments(dossier: Dossier) -> QuerySet[Attachment]:
    return Attachment.objects.filter(dossier=dossier, removed_at__isnull=True).select_related("type")


def missing_attachment_types(dossier: Dossier) -> list[AttachmentType]:
    """Required attachment types of the dossier's call with no live attachment, in the call's order."""
    provided = Attachment.objects.filter(dossier=dossier, removed_at__isnull=True, type__isnull=False).values("type")
    return list(AttachmentType.objects.filter(call_id=dossier.call_id, required=True).exclude(pk__in=provided))


def _locked_for_update(dossier_id: int) -> Dossier:
    # Lock the dossier row only (not its call: every dossier of the call would queue behind it).
    return Dossier.objects.select_related("call").select_for_update(of=("self",)).get(pk=dossier_id)


def add_attachment(dossier: Dossier, *, uploaded_file, attachment_type: AttachmentType | None = None, by) -> Attachment:
    """Store an uploaded file in the dossier's working copy.

    Refused with DossierLocked (French reason) when the dossier cannot be edited now, and with
    ValidationError (French) when the file is not an accepted kind by its content, is larger
    than the call's limit, or would take the dossier's live attachments over
    ATTACHMENT_DOSSIER_MAX_BYTES. The stored name is generated (see attachment_upload_to);
    the uploaded name is only shown, sanitised. A file for a required type replaces the live
    one, which is marked removed; extra pieces (no type) and optional types accumulate.
    """
    if attachment_type is not None and attachment_type.call_id != dossier.call_id:
        raise ValueError("The attachment type belongs to another call.")
    ensure_editable(dossier)
    info = inspect_upload(uploaded_file, max_bytes=max_attachment_bytes(dossier.call))

    with transaction.atomic():
        # Serialises uploads to one dossier, so that the total below holds; editability is
        # checked again at write time.
        dossier = _locked_for_update(dossier.pk)
        ensure_editable(dossier)
        live = Attachment.objects.filter(dossier=dossier, removed_at__isnull=True)
        replaced_ids = []
        if attachment_type is not None and attachment_type.required:
            replaced_ids = list(live.filter(type=attachment_type).values_list("pk", flat=True))
        kept_total = live.exclude(pk__in=replaced_ids).aggregate(total=Sum("size"))["total"] or 0
        if kept_total + info.size > settings.ATTACHMENT_DOSSIER_MAX_BYTES:
            raise ValidationError(
                "Avec ce fichier, les pièces du dossier dépasseraient la taille totale autorisée (%(limit)s). "
                "Retirez une pièce devenue inutile ou réduisez la taille du fichier.",
                code="dossier_total",
                params={"limit": format_size_limit(settings.ATTACHMENT_DOSSIER_MAX_BYTES)},
            )
        Attachment.objects.filter(pk__in=replaced_ids).update(removed_at=timezone.now())
        attachment = Attachment(
            dossier=dossier,
            type=attachment_type,
            original_name=info.safe_name,
            content_type=info.content_type,
            size=info.size,
            sha256=info.sha256,
            uploaded_by=by,
        )
        attachment.file.save(info.safe_name, uploaded_file, save=False)
        attachment.save()
    logger.info(
        "Attachment %s added to dossier %s by user %s (%s bytes, replaces %s)",
        attachment.uuid,
        dossier.pk,
        by.pk,
        info.size,
        replaced_ids,
    )
    return attachment


def remove_attachment(attachment: Attachment, *, by) -> Attachment:
    """Take the attachment out of the working copy: it gets `removed_at`, its file is kept.

    Refused with DossierLocked when the dossier cannot be edited now. Removing twice is harmless.
    """
    with transaction.atomic():
        dossier = _locked_for_update(attachment.dossier_id)
        ensure_editable(dossier)
        Attachment.objects.filter(pk=attachment.pk, removed_at__isnull=True).update(
            removed_at=timezone.now(), removed_by=by
        )
    attachment.refresh_from_db(fields=["removed_at", "removed_by"])
    return attachment
