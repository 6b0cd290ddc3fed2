"""The pole's pages: the consortium, its member organisations and its team.

Every object is fetched through `applications.access`, so a foreign id is a 404 and a reader
trying to change something gets a 403. Writes go through `applications.consortia`.
"""

from __future__ import annotations

import copy
from urllib.parse import urlencode

from allauth.core import ratelimit
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.db.models import prefetch_related_objects
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from .. import consortia as services
from ..access import consortium_for
from ..forms.consortia import ConsortiumForm, InvitationForm, OrganisationForm
from ..models import Call, Invitation, Membership

ROLE_ORDER = {Membership.Role.OWNER: 0, Membership.Role.EDITOR: 1, Membership.Role.READER: 2}


def team_members(consortium) -> list[Membership]:
    """Owners first, then editors, then readers (the stored role codes do not sort that way)."""
    return sorted(
        consortium.memberships.select_related("user"),
        key=lambda member: (ROLE_ORDER.get(member.role, len(ROLE_ORDER)), member.user.email),
    )


# --- Consortium ---


@login_required
@require_http_methods(["GET", "POST"])
def consortium_create(request):
    form = ConsortiumForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        consortium = services.create_consortium(by=request.user, **form.cleaned_data)
        messages.success(
            request, f"Le pôle « {consortium.name} » est créé. Ajoutez maintenant ses organisations membres."
        )
        return redirect(consortium)
    return render(request, "applications/consortium_form.html", {"form": form, "consortium": None})


@login_required
@require_safe
def consortium_detail(request, pk: int):
    consortium, membership = consortium_for(request.user, pk)
    prefetch_related_objects([consortium], "organisations")  # read once: listed and checked per call
    organisations = list(consortium.organisations.all())
    members = team_members(consortium)
    open_calls = list(Call.objects.published().open_at(timezone.now()).order_by("closes_at"))
    dossiers = {dossier.call_id: dossier for dossier in consortium.dossiers.filter(call__in=open_calls)}
    calls = [
        {
            "call": call,
            "dossier": dossiers.get(call.pk),
            "problems": services.composition_problems(consortium, call),
        }
        for call in open_calls
    ]
    return render(
        request,
        "applications/consortium_detail.html",
        {
            "consortium": consortium,
            "membership": membership,
            "organisations": organisations,
            "members": members,
            "calls": calls,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def consortium_update(request, pk: int):
    consortium, _ = consortium_for(request.user, pk, edit=True)
    # The form works on a copy: a rejected POST must not rename the page's title and breadcrumb.
    form = ConsortiumForm(request.POST or None, instance=copy.copy(consortium))
    if request.method == "POST" and form.is_valid():
        services.update_consortium(consortium, by=request.user, **form.cleaned_data)
        messages.success(request, "Les informations du pôle sont enregistrées.")
        return redirect(consortium)
    return render(request, "applications/consortium_form.html", {"form": form, "consortium": consortium})


# --- Organisations ---


@login_required
@require_http_methods(["GET", "POST"])
def organisation_create(request, pk: int):
    consortium, _ = consortium_for(request.user, pk, edit=True)
    form = OrganisationForm(request.POST or None, consortium=consortium)
    if request.method == "POST" and form.is_valid():
        organisation = services.save_organisation(consortium, by=request.user, **form.cleaned_data)
        messages.success(request, f"L'organisation « {organisation.name} » est ajoutée au pôle.")
        return redirect(consortium)
    return render(
        request,
        "applications/organisation_form.html",
        {"form": form, "consortium": consortium, "organisation": None},
    )


@login_required
@require_http_methods(["GET", "POST"])
def organisation_update(request, pk: int, org_pk: int):
    consortium, _ = consortium_for(request.user, pk, edit=True)
    organisation = get_object_or_404(consortium.organisations, pk=org_pk)
    form = OrganisationForm(request.POST or None, consortium=consortium, instance=copy.copy(organisation))
    if request.method == "POST" and form.is_valid():
        services.save_organisation(consortium, by=request.user, organisation=organisation, **form.cleaned_data)
        messages.success(request, f"L'organisation « {organisation.name} » est enregistrée.")
        return redirect(consortium)
    return render(
        request,
        "applications/organisation_form.html",
        {"form": form, "consortium": consortium, "organisation": organisation},
    )


@login_required
@require_http_methods(["GET", "POST"])
def organisation_delete(request, pk: int, org_pk: int):
    """GET asks for confirmation; only POST removes."""
    consortium, _ = consortium_for(request.user, pk, edit=True)
    organisation = get_object_or_404(consortium.organisations, pk=org_pk)
    if request.method == "POST":
        services.remove_organisation(organisation, by=request.user)
        messages.success(request, f"L'organisation « {organisation.name} » est retirée du pôle.")
        return redirect(consortium)
    return render(
        request,
        "applications/organisation_confirm_delete.html",
        {"consortium": consortium, "organisation": organisation},
    )


# --- Team and invitations ---


@login_required
@require_http_methods(["GET", "POST"])
def team(request, pk: int):
    """Everyone in the team sees it; only owners invite (a POST by anyone else is a 403)."""
    consortium, membership = consortium_for(request.user, pk, owner=request.method == "POST")
    is_owner = membership.role == Membership.Role.OWNER
    form = InvitationForm(request.POST or None) if is_owner else None
    if request.method == "POST" and not ratelimit.consume(request, action="invite_member"):
        form.add_error(None, "Vous avez envoyé trop d'invitations en peu de temps. Veuillez réessayer plus tard.")
    if request.method == "POST" and form.is_valid():
        try:
            invitation = services.invite_member(
                consortium, email=form.cleaned_data["email"], role=form.cleaned_data["role"], by=request.user
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"Une invitation a été envoyée à {invitation.email}.")
            return redirect("applications:team", pk=consortium.pk)
    members = team_members(consortium)
    pending = consortium.invitations.filter(
        accepted_at=None, revoked_at=None, expires_at__gt=timezone.now()
    ).select_related("invited_by")
    return render(
        request,
        "applications/team.html",
        {
            "consortium": consortium,
            "membership": membership,
            "is_owner": is_owner,
            "members": members,
            "pending": pending,
            "form": form,
        },
    )


@login_required
@require_POST
def invitation_revoke(request, pk: int, invitation_pk: int):
    consortium, _ = consortium_for(request.user, pk, owner=True)
    invitation = get_object_or_404(consortium.invitations, pk=invitation_pk)
    try:
        services.revoke_invitation(invitation, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"L'invitation envoyée à {invitation.email} est annulée.")
    return redirect("applications:team", pk=consortium.pk)


@require_http_methods(["GET", "POST"])
def invitation_accept(request, token: str):
    """The link of the invitation e-mail: anyone holding it may see whom it invites where."""
    invitation = get_object_or_404(Invitation.objects.select_related("consortium", "invited_by"), token=token)
    problem = services.invitation_problem(invitation, at=timezone.now())
    if problem:
        return render(
            request,
            "applications/invitation_unusable.html",
            {"invitation": invitation, "problem": problem},
            status=410,
        )
    if not request.user.is_authenticated:
        if request.method == "POST":
            return redirect_to_login(request.path)
        next_query = urlencode({"next": request.path})
        return render(
            request,
            "applications/invitation_accept.html",
            {
                "invitation": invitation,
                "login_url": f"{reverse('account_login')}?{next_query}",
                "signup_url": f"{reverse('account_signup')}?{next_query}",
            },
        )

    mismatch = services.email_mismatch(invitation, request.user)
    if request.method == "POST" and not mismatch:
        try:
            membership = services.accept_invitation(invitation, user=request.user)
        except ValidationError as error:
            return render(
                request,
                "applications/invitation_unusable.html",
                {"invitation": invitation, "problem": " ".join(error.messages)},
                status=410,
            )
        messages.success(
            request,
            f"Vous avez rejoint l'équipe du pôle « {invitation.consortium.name} » "
            f"en tant que {membership.get_role_display().lower()}.",
        )
        return redirect(invitation.consortium)
    return render(
        request,
        "applications/invitation_accept.html",
        {
            "invitation": invitation,
            "mismatch": mismatch,
            "already_member": invitation.consortium.memberships.filter(user=request.user).exists(),
        },
        status=403 if mismatch and request.method == "POST" else 200,
    )
