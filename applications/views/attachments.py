"""Dossier attachments: the list with the upload form, private download, removal."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from ..access import dossier_for
from ..attachments import add_attachment, live_attachments, max_attachment_bytes, remove_attachment, upload_message
from ..downloads import private_download
from ..forms.attachments import AttachmentUploadForm
from ..models import Attachment, AttachmentType, Dossier, Membership
from ..services import DossierLocked, locked_reason
from ..uploads import SizeLimitUploadHandler, format_size_limit


@dataclass(frozen=True)
class AttachmentRow:
    """One line of the list: a type of the call with its live file (or none yet), or an extra piece."""

    type: AttachmentType | None
    attachment: Attachment | None

    @property
    def label(self) -> str:
        return self.type.label if self.type else "Autre pièce"

    @property
    def required(self) -> bool:
        return bool(self.type and self.type.required)

    @property
    def missing(self) -> bool:
        return self.required and self.attachment is None


@csrf_exempt
@login_required
@require_http_methods(["GET", "POST"])
def attachment_list(request, pk: int):
    # The size-limiting upload handler must be installed before anything reads request.POST
    # or request.FILES, the CSRF check included: hence csrf_exempt here and csrf_protect on
    # the inner view ("Modifying upload handlers on the fly" in Django's documentation).
    dossier, membership = dossier_for(request.user, pk, edit=request.method == "POST")
    size_limit = SizeLimitUploadHandler(request, max_bytes=max_attachment_bytes(dossier.call))
    if request.method == "POST":
        # Assigning (not inserting) raises if the body was already parsed.
        request.upload_handlers = [size_limit, *request.upload_handlers]
    return _attachment_list(request, dossier=dossier, membership=membership, size_limit=size_limit)


@csrf_protect
def _attachment_list(request, *, dossier: Dossier, membership: Membership, size_limit: SizeLimitUploadHandler):
    reason = locked_reason(dossier)
    can_upload = membership.can_edit and reason is None
    list_url = reverse("applications:attachment-list", args=[dossier.pk])
    form = None
    if request.method == "POST":
        if not can_upload:
            messages.error(request, reason)
            return redirect(list_url)
        form = AttachmentUploadForm(
            request.POST,
            request.FILES,
            call=dossier.call,
            max_bytes=size_limit.max_bytes,
            too_large=size_limit.too_large,
        )
        if form.is_valid():
            try:
                attachment = add_attachment(
                    dossier,
                    uploaded_file=form.cleaned_data["file"],
                    attachment_type=form.cleaned_data["attachment_type"],
                    by=request.user,
                )
            except DossierLocked as locked:
                messages.error(request, str(locked))
                return redirect(list_url)
            except ValidationError as error:
                form.add_error("file", error)
            else:
                messages.success(request, upload_message(attachment))
                return redirect(list_url)

    types = list(dossier.call.attachment_types.all())  # read here: not needed after a stored upload
    attachments = list(live_attachments(dossier))
    rows = []
    for attachment_type in types:
        provided = [a for a in attachments if a.type_id == attachment_type.pk] or [None]
        rows += [AttachmentRow(attachment_type, a) for a in provided]
    rows += [AttachmentRow(None, a) for a in attachments if a.type_id is None]
    missing = [row.type for row in rows if row.missing]
    if form is None and can_upload:
        form = AttachmentUploadForm(
            call=dossier.call,
            max_bytes=size_limit.max_bytes,
            initial={"attachment_type": _initial_type(request.GET.get("type"), types, missing)},
        )
    if form is not None:
        form.show_types(types)
    return render(
        request,
        "applications/attachment_list.html",
        {
            "dossier": dossier,
            "can_edit": membership.can_edit,
            "locked_reason": reason,
            "rows": rows,
            "missing": missing,
            "used_bytes": sum(attachment.size for attachment in attachments),
            "dossier_limit": format_size_limit(settings.ATTACHMENT_DOSSIER_MAX_BYTES),
            "form": form,
        },
    )


def _initial_type(wanted_code: str | None, types: list[AttachmentType], missing: list[AttachmentType]) -> int | None:
    """The type asked for in ?type=<code> (links from the dossier overview), else the first missing one."""
    wanted = [attachment_type for attachment_type in types if attachment_type.code == wanted_code] or missing
    return wanted[0].pk if wanted else None


@login_required
@require_safe
def attachment_download(request, pk: int, uuid):
    """The file, to members of the dossier's consortium only; removed ones too (a submitted
    version may refer to them). Always a download, never rendered by the browser."""
    dossier, _membership = dossier_for(request.user, pk)
    attachment = get_object_or_404(Attachment.objects.filter(dossier=dossier), uuid=uuid)
    return private_download(attachment.file, attachment.original_name, attachment.content_type)


@login_required
@require_POST
def attachment_remove(request, pk: int, uuid):
    dossier, _membership = dossier_for(request.user, pk, edit=True)
    attachment = get_object_or_404(live_attachments(dossier), uuid=uuid)
    try:
        remove_attachment(attachment, by=request.user)
    except DossierLocked as locked:
        messages.error(request, str(locked))
    else:
        messages.success(request, f"La pièce « {attachment.original_name} » a été retirée du dossier.")
    return redirect("applications:attachment-list", dossier.pk)
