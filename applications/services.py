"""Writes on dossiers: every entry point (view, admin, task, command) calls these functions."""

from __future__ import annotations

from django.utils import formats, timezone

from . import clock
from .models import Dossier


class DossierLocked(Exception):
    """The working copy cannot be changed now; the message says why, in French."""


def locked_reason(dossier: Dossier, *, at=None) -> str | None:
    """Why the team cannot edit the dossier's working copy at `at` (default: now), or None."""
    moment = at or clock.now()
    if dossier.status in (Dossier.Status.UNDER_REVIEW, Dossier.Status.LAUREATE, Dossier.Status.NOT_SELECTED):
        return "Le dossier est en instruction : il ne peut plus être modifié."
    if dossier.status == Dossier.Status.EXPIRED:
        return "Le dossier n'a pas été déposé avant la date limite : il ne peut plus être modifié."
    if moment < dossier.call.opens_at:
        return "L'appel à projets n'est pas encore ouvert."
    if moment >= dossier.deadline:
        deadline = formats.date_format(timezone.localtime(dossier.deadline), "DATETIME_FORMAT")
        return f"La date limite de dépôt ({deadline}) est passée : le dossier ne peut plus être modifié."
    if dossier.status == Dossier.Status.WITHDRAWN:
        return "Le dossier a été retiré : reprenez-le pour le modifier."
    return None


def ensure_editable(dossier: Dossier, *, at=None) -> None:
    reason = locked_reason(dossier, at=at)
    if reason:
        raise DossierLocked(reason)
