"""Writes on consortia (the poles), their member organisations and their team.

Every entry point (view, admin, shell, task) calls these functions. Who may call them is
checked by the caller (views go through `applications.access.consortium_for`); the actor is
passed as `by` and recorded in the history tables.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import secrets
import smtplib

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from .models import Call, Consortium, Invitation, Membership, Organisation, OrganisationKind
from .sirets import normalise_siret

logger = logging.getLogger(__name__)

INVITATION_VALIDITY = dt.timedelta(days=14)

CONSORTIUM_FIELDS = frozenset(
    {"name", "communes", "departement", "region", "territory_priority", "maturity", "sectors"}
)
ORGANISATION_FIELDS = frozenset(
    {"name", "siret", "legal_form", "kind", "address", "postcode", "commune", "email_domain", "is_lead"}
)

# Metropolitan départements 01–95 (Corsica is 2A and 2B, never 20) and the overseas 971–976.
DEPARTEMENT_RE = re.compile(r"^(0[1-9]|1\d|2[1-9]|2A|2B|[3-8]\d|9[0-5]|97[1-6])$")
DEPARTEMENT_MESSAGE = "Indiquez un numéro de département valide : de 01 à 95, 2A, 2B ou de 971 à 976."


def normalise_departement(value: str) -> str:
    value = (value or "").strip().upper()
    return f"0{value}" if len(value) == 1 and value.isdigit() else value


def validate_departement(value: str) -> None:
    if not DEPARTEMENT_RE.match(value or ""):
        raise ValidationError(DEPARTEMENT_MESSAGE, code="departement")


def _check_fields(fields: dict, allowed: frozenset[str]) -> None:
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"Unexpected fields: {', '.join(sorted(unknown))}")


# --- Consortium ---


def create_consortium(*, by, **fields) -> Consortium:
    """Create a pole; its creator becomes its first owner.

    Effects: one Consortium (created_by=by) and one OWNER Membership for `by`, in one transaction.
    """
    _check_fields(fields, CONSORTIUM_FIELDS)
    fields["departement"] = normalise_departement(fields.get("departement", ""))
    validate_departement(fields["departement"])
    consortium = Consortium(created_by=by, **fields)
    consortium.full_clean()
    consortium._history_user = by
    with transaction.atomic():
        consortium.save()
        membership = Membership(consortium=consortium, user=by, role=Membership.Role.OWNER)
        membership._history_user = by
        membership.save()
    return consortium


def update_consortium(consortium: Consortium, *, by, **fields) -> Consortium:
    """Change a pole's name, territory, priority, maturity or sectors.

    Effects: the given fields are validated and saved (one history row recorded for `by`).
    """
    _check_fields(fields, CONSORTIUM_FIELDS)
    if "departement" in fields:
        fields["departement"] = normalise_departement(fields["departement"])
    for name, value in fields.items():
        setattr(consortium, name, value)
    validate_departement(consortium.departement)
    consortium.full_clean()
    consortium._history_user = by
    consortium.save(update_fields=sorted(fields) or None)
    return consortium


# --- Organisations ---


def save_organisation(
    consortium: Consortium, *, by, organisation: Organisation | None = None, **fields
) -> Organisation:
    """Add an organisation to the pole, or change one of its organisations.

    The SIRET is stored without spaces. A pole has at most one lead structure: when this
    organisation becomes the lead, the previous lead loses the flag in the same transaction.
    The consortium row is locked so that two people choosing a lead at once cannot both win
    (the partial unique constraint would turn that race into an error).
    """
    _check_fields(fields, ORGANISATION_FIELDS)
    if organisation is None:
        organisation = Organisation(consortium=consortium)
    elif organisation.consortium_id != consortium.pk:
        raise ValueError("The organisation belongs to another consortium.")
    if "siret" in fields:
        fields["siret"] = normalise_siret(fields["siret"] or "")
    if fields.get("email_domain"):
        fields["email_domain"] = fields["email_domain"].strip().lstrip("@").lower()
    for name, value in fields.items():
        setattr(organisation, name, value)

    with transaction.atomic():
        Consortium.objects.select_for_update().filter(pk=consortium.pk).first()
        if organisation.is_lead:
            previous_leads = consortium.organisations.select_for_update().filter(is_lead=True)
            if organisation.pk:
                previous_leads = previous_leads.exclude(pk=organisation.pk)
            for previous in previous_leads:
                previous.is_lead = False
                previous._history_user = by
                previous.save(update_fields=["is_lead"])
        organisation.full_clean()
        organisation._history_user = by
        organisation.save()
    return organisation


def remove_organisation(organisation: Organisation, *, by) -> None:
    """Take an organisation out of its pole (the history keeps a trace of who removed it)."""
    organisation._history_user = by
    organisation.delete()


def composition_problems(consortium: Consortium, call: Call) -> list[str]:
    """Why the pole's composition does not meet the call's rules, in French; [] when it does.

    The call asks for at least `min_ess_members` structures of the social and solidarity
    economy (ESS), at least `min_other_members` organisations of another kind, and exactly one
    lead structure. Reads `consortium.organisations.all()`, so a prefetch is used when present.
    """
    organisations = list(consortium.organisations.all())
    ess_kinds = OrganisationKind.ess_kinds()
    ess_count = sum(1 for organisation in organisations if organisation.kind in ess_kinds)
    other_count = len(organisations) - ess_count
    lead_count = sum(1 for organisation in organisations if organisation.is_lead)

    problems = []
    if ess_count < call.min_ess_members:
        structures = "structure" if call.min_ess_members == 1 else "structures"
        problems.append(
            f"Le pôle doit associer au moins {call.min_ess_members} {structures} de l'économie sociale et "
            "solidaire (association, coopérative, mutuelle, fondation ou entreprise ESUS)."
        )
    if other_count < call.min_other_members:
        organisations_word = "organisation" if call.min_other_members == 1 else "organisations"
        problems.append(
            f"Le pôle doit associer au moins {call.min_other_members} {organisations_word} d'une autre nature "
            "(entreprise commerciale, collectivité territoriale, centre de recherche, organisme de formation…)."
        )
    if lead_count == 0:
        problems.append("Le pôle doit désigner sa structure porteuse parmi ses organisations.")
    elif lead_count > 1:
        problems.append("Le pôle ne peut avoir qu'une seule structure porteuse.")
    return problems


# --- Team and invitations ---


def invite_member(consortium: Consortium, *, email: str, role: str, by) -> Invitation:
    """Invite someone by e-mail to join the pole's team with `role`.

    Refused when the address already belongs to a member. A pending invitation to the same
    address is revoked, so only the latest link works. The invitation is valid for 14 days;
    the e-mail is sent once the transaction has committed (never for a rolled-back invitation).
    Only owners may invite: the caller checks it.
    """
    email = (email or "").strip().lower()
    if role not in Membership.Role.values:
        raise ValueError(f"Unknown role: {role}")
    now = timezone.now()
    with transaction.atomic():
        # Serialises invitations to the same pole, so that two pending links never coexist.
        Consortium.objects.select_for_update().filter(pk=consortium.pk).first()
        if consortium.memberships.filter(user__email__iexact=email).exists():
            raise ValidationError(
                {"email": "Cette personne fait déjà partie de l'équipe du pôle."}, code="already_member"
            )
        pending = consortium.invitations.filter(email__iexact=email, accepted_at=None, revoked_at=None)
        pending.update(revoked_at=now)
        invitation = Invitation.objects.create(
            consortium=consortium,
            email=email,
            role=role,
            token=secrets.token_urlsafe(32),
            invited_by=by,
            expires_at=now + INVITATION_VALIDITY,
        )
        transaction.on_commit(lambda: send_invitation_email(invitation))
    return invitation


def invitation_url(invitation: Invitation) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("applications:invitation-accept", args=[invitation.token])


def send_invitation_email(invitation: Invitation) -> None:
    """Send the invitation e-mail. A mail server failure is logged, not raised: the invitation
    exists and the owner can send it again from the team page."""
    context = {
        "invitation": invitation,
        "consortium": invitation.consortium,
        "inviter": invitation.invited_by,
        "role": invitation.get_role_display().lower(),
        "url": invitation_url(invitation),
    }
    subject = " ".join(render_to_string("emails/invitation_subject.txt", context).split())
    body = render_to_string("emails/invitation_body.txt", context)
    try:
        send_mail(subject, body, None, [invitation.email])
    except (smtplib.SMTPException, OSError):
        logger.exception("Invitation %s: the e-mail could not be sent", invitation.pk)


def revoke_invitation(invitation: Invitation, *, by) -> Invitation:
    """Cancel a pending invitation: its link stops working. Nothing changes if it was already
    revoked; an accepted invitation cannot be revoked (remove the member instead)."""
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.accepted_at is not None:
            raise ValidationError("Cette invitation a déjà été acceptée : elle ne peut plus être annulée.")
        if invitation.revoked_at is None:
            invitation.revoked_at = timezone.now()
            invitation.save(update_fields=["revoked_at"])
    return invitation


def invitation_problem(invitation: Invitation, *, at: dt.datetime) -> str | None:
    """Why the invitation's link no longer works at `at`, in French, or None."""
    if invitation.revoked_at is not None:
        return "Cette invitation a été annulée par l'équipe du pôle."
    if invitation.accepted_at is not None:
        return "Cette invitation a déjà été utilisée."
    if at >= invitation.expires_at:
        return "Cette invitation a expiré. Demandez à l'équipe du pôle de vous en envoyer une nouvelle."
    return None


def email_mismatch(invitation: Invitation, user) -> str | None:
    if user.email.lower() != invitation.email.lower():
        return (
            "Cette invitation a été envoyée à une autre adresse e-mail que celle de votre compte. "
            "Connectez-vous avec l'adresse qui a reçu l'invitation."
        )
    return None


def accept_invitation(invitation: Invitation, *, user) -> Membership:
    """Join the pole with the invitation's role.

    Refused when the invitation is revoked, already used or expired, or when it was sent to
    another address than the user's (compared case-insensitively). A user who is already a
    member keeps their role. The invitation row is locked, so a link is used only once.
    Effects: a Membership (unless one exists) and the invitation marked accepted by `user`.
    """
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        now = timezone.now()
        problem = invitation_problem(invitation, at=now) or email_mismatch(invitation, user)
        if problem:
            raise ValidationError(problem, code="invitation_refused")
        membership = Membership.objects.filter(consortium_id=invitation.consortium_id, user=user).first()
        if membership is None:
            membership = Membership(consortium_id=invitation.consortium_id, user=user, role=invitation.role)
            membership._history_user = user
            membership.save()
        invitation.accepted_at = now
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
    return membership
