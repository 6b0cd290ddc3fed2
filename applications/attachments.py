"""Attachments of a dossier's working copy: add, remove, and what is still missing.

An attachment is never deleted: removing it only sets `removed_at`, because a submitted
version may refer to its file. "Live" attachments are those not removed.

With an antivirus configured (applications.antivirus) every upload is scanned before it is
stored: an infected file is refused; when clamd gives no verdict the file is stored "pending",
unusable (no download, not counted for submission) until `scan_attachment` finds it clean, from a
task sent through the outbox and retried until clamd answers.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet, Sum
from django.utils import timezone

from jobs.services import enqueue

from . import antivirus
from .models import Attachment, AttachmentType, Call, Dossier
from .services import ensure_editable
from .uploads import check_declared_size, format_size_limit, inspect_upload

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


def unusable_attachments(dossier: Dossier) -> QuerySet[Attachment]:
    """Live attachments still waiting for the antivirus: they block submission."""
    return live_attachments(dossier).exclude(scan_status__in=Attachment.USABLE_SCAN_STATUSES)


def _locked_for_update(dossier_id: int) -> Dossier:
    # Lock the dossier row only (not its call: every dossier of the call would queue behind it).
    return Dossier.objects.select_related("call").select_for_update(of=("self",)).get(pk=dossier_id)


def add_attachment(dossier: Dossier, *, uploaded_file, attachment_type: AttachmentType | None = None, by) -> Attachment:
    """Store an uploaded file in the dossier's working copy.

    Refused with DossierLocked (French reason) when the dossier cannot be edited now, and with
    ValidationError (French) when the file is not an accepted kind by its content, is larger
    than the call's limit, would take the dossier's live attachments over
    ATTACHMENT_DOSSIER_MAX_BYTES, or is found infected by the antivirus (clamd down: stored
    "pending" and a scan queued). The stored name is generated (see attachment_upload_to);
    the uploaded name is only shown, sanitised. A file for a required type replaces the live
    one, which is marked removed; extra pieces (no type) and optional types accumulate.
    """
    if attachment_type is not None and attachment_type.call_id != dossier.call_id:
        raise ValueError("The attachment type belongs to another call.")
    ensure_editable(dossier)
    max_bytes = max_attachment_bytes(dossier.call)
    check_declared_size(uploaded_file, max_bytes=max_bytes)
    # The antivirus first: a virus is called a virus, whatever its format.
    scan_status = _scan_upload(uploaded_file)
    info = inspect_upload(uploaded_file, max_bytes=max_bytes)

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
            scan_status=scan_status,
            scanned_at=timezone.now() if scan_status == Attachment.ScanStatus.CLEAN else None,
        )
        attachment.file.save(info.safe_name, uploaded_file, save=False)
        attachment.save()
        if scan_status == Attachment.ScanStatus.PENDING:
            enqueue(
                "applications.tasks.scan_attachment_task",
                key=f"scan:{attachment.uuid}",
                attachment_id=attachment.pk,
            )
    logger.info(
        "Attachment %s added to dossier %s by user %s (%s bytes, replaces %s)",
        attachment.uuid,
        dossier.pk,
        by.pk,
        info.size,
        replaced_ids,
    )
    return attachment


INFECTED_MESSAGE = (
    "L'antivirus a détecté un programme malveillant dans ce fichier (%(signature)s) : il est refusé. "
    "Analysez votre poste et déposez une copie saine du document."
)
PENDING_MESSAGE = (
    "La pièce « %(name)s » a été reçue et est en attente d'analyse antivirus : l'analyse n'est pas "
    "disponible pour le moment et sera faite automatiquement. D'ici là, la pièce ne peut être ni "
    "téléchargée ni prise en compte pour le dépôt du dossier."
)


def _scan_upload(uploaded_file) -> str:
    """Scan status for a new upload; ValidationError (French) when infected."""
    if not antivirus.is_configured():
        return Attachment.ScanStatus.NOT_SCANNED
    try:
        signature = antivirus.scan_file(uploaded_file)
    except antivirus.AntivirusUnavailable as error:
        logger.warning("Antivirus unavailable, upload kept pending: %s", error)
        return Attachment.ScanStatus.PENDING
    if signature is not None:
        logger.warning("Upload refused, antivirus signature %s", signature)
        raise ValidationError(INFECTED_MESSAGE, code="infected", params={"signature": signature})
    return Attachment.ScanStatus.CLEAN


def upload_message(attachment: Attachment) -> str:
    """What the team is told once an upload is stored."""
    if attachment.scan_status == Attachment.ScanStatus.PENDING:
        return PENDING_MESSAGE % {"name": attachment.original_name}
    return f"La pièce « {attachment.original_name} » a été déposée."


def scan_attachment(attachment_id: int) -> str | None:
    """Scan a pending attachment's stored file; returns its new status, or None if nothing to do.

    Raises AntivirusUnavailable while clamd gives no verdict (the task retries). Safe to run twice:
    only a pending attachment is scanned, and its row is locked when the verdict is written. An
    infected file leaves the working copy (`removed_at`) and its stored bytes are deleted.
    """
    attachment = Attachment.objects.filter(pk=attachment_id, scan_status=Attachment.ScanStatus.PENDING).first()
    if attachment is None:
        return None
    with attachment.file.open("rb") as stored:
        signature = antivirus.scan_file(stored)
    with transaction.atomic():
        # No default ordering: it joins the nullable type, which FOR UPDATE refuses.
        locked = Attachment.objects.select_for_update().filter(pk=attachment_id).order_by().first()
        if locked is None or locked.scan_status != Attachment.ScanStatus.PENDING:
            return None
        now = timezone.now()
        locked.scanned_at = now
        if signature is None:
            locked.scan_status = Attachment.ScanStatus.CLEAN
            locked.save(update_fields=["scan_status", "scanned_at"])
        else:
            locked.scan_status = Attachment.ScanStatus.INFECTED
            locked.scan_signature = signature[:200]
            locked.removed_at = locked.removed_at or now
            locked.save(update_fields=["scan_status", "scanned_at", "scan_signature", "removed_at"])
            name = locked.file.name
            transaction.on_commit(lambda: locked.file.storage.delete(name))
    logger.info("Attachment %s scanned: %s %s", locked.uuid, locked.scan_status, signature or "")
    return locked.scan_status


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
