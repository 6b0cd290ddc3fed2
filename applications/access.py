"""Object-level access for applicants: every view fetches through these, so a foreign id is a 404.

Membership decides: owners and editors may change a consortium's data and its dossiers,
readers may only read. A user outside the consortium gets 404 (the object's existence is
not disclosed); a reader trying to change something gets 403.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import F
from django.http import Http404

from .models import Consortium, Dossier, Membership


def membership_of(user, consortium_id: int) -> Membership:
    membership = (
        Membership.objects.filter(consortium_id=consortium_id, user=user).select_related("consortium").first()
        if user.is_authenticated
        else None
    )
    if membership is None:
        raise Http404("Aucun pôle ne correspond.")
    return membership


def consortium_for(user, pk: int, *, edit: bool = False, owner: bool = False) -> tuple[Consortium, Membership]:
    membership = membership_of(user, pk)
    if owner and membership.role != Membership.Role.OWNER:
        raise PermissionDenied("Seuls les propriétaires du pôle peuvent faire cela.")
    if edit and not membership.can_edit:
        raise PermissionDenied("Votre rôle de lecteur ne permet pas de modifier ce pôle.")
    return membership.consortium, membership


def dossier_for(user, pk: int, *, edit: bool = False) -> tuple[Dossier, Membership]:
    """The dossier `pk` and the user's membership of its consortium, in one query (every applicant
    page and autosave starts here): the membership's columns are read through the join that
    `visible_to` filters on."""
    # The version that counts is shown on every dossier page (status banner): read with the dossier,
    # without its frozen content (tens of kB of JSON that no applicant page reads from here; the
    # receipt reads its own version).
    rows = (
        Dossier.objects.visible_to(user)
        .select_related("current_submission")
        .defer("current_submission__content")
        .annotate(
            member_id=F("consortium__memberships__pk"),
            member_role=F("consortium__memberships__role"),
            member_since=F("consortium__memberships__joined_at"),
        )
        .filter(pk=pk)
        # At most one row: no ORDER BY (`first()` would sort by the model's ordering, a join on the
        # call and a sort the planner has to cost on every applicant request).
        .order_by()[:1]
    )
    dossier = next(iter(rows), None)
    if dossier is None:
        raise Http404("Aucun dossier ne correspond.")
    membership = Membership(
        pk=dossier.member_id,
        consortium=dossier.consortium,
        user=user,
        role=dossier.member_role,
        joined_at=dossier.member_since,
    )
    if edit and not membership.can_edit:
        raise PermissionDenied("Votre rôle de lecteur ne permet pas de modifier ce dossier.")
    return dossier, membership
