"""Personal data of one person: what the portal holds about them, and closing their account.

This module reads across the apps (a person's traces are in each of them), so it imports them
inside its functions: `accounts` stays importable on its own, the bottom of the dependency line.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from .models import User

EXPORT_SCOPE = (
    "Ce fichier contient ce que le portail conserve à votre sujet : votre compte (adresse, nom, dates "
    "d'inscription et de dernière connexion, rôles), vos adresses e-mail vérifiées, vos appartenances aux "
    "équipes des pôles, les pôles que vous avez créés, les invitations que vous avez envoyées ou acceptées, "
    "chaque version des rubriques de dossier que vous avez rédigée, les versions déposées en votre nom, vos "
    "messages, et la liste des fichiers que vous avez déposés (nom, format, taille, empreinte, date). Le "
    "contenu des fichiers n'y figure pas : il se télécharge depuis chaque dossier. Les évaluations et "
    "décisions portant sur vos dossiers n'y figurent pas : elles appartiennent à l'instruction."
)


def export_personal_data(user: User) -> dict:
    """Everything the portal holds about `user` as written by or about them, as JSON-ready data."""
    from allauth.account.models import EmailAddress

    from applications.models import Attachment, Consortium, DossierSection, Invitation, Membership, Submission
    from reviews.models import Message

    def when(moment):
        return timezone.localtime(moment).isoformat() if moment else None

    memberships = Membership.objects.filter(user=user).select_related("consortium").order_by("joined_at")
    invitations = Invitation.objects.filter(invited_by=user) | Invitation.objects.filter(accepted_by=user)
    sections = (
        DossierSection.history.filter(history_user=user)
        .select_related("dossier__consortium")
        .order_by("history_date", "history_id")
    )
    submissions = Submission.objects.filter(submitted_by=user).select_related("dossier__consortium")
    messages = Message.objects.filter(author=user).select_related("dossier__consortium").order_by("created_at")
    uploads = (
        Attachment.objects.filter(uploaded_by=user)
        .select_related("dossier__consortium", "type")
        .order_by("uploaded_at")
    )
    return {
        "portail": "Portail PTCE",
        "exporte_le": when(timezone.now()),
        "perimetre": EXPORT_SCOPE,
        "compte": {
            "adresse_email": user.email,
            "prenom": user.first_name,
            "nom": user.last_name,
            "inscrit_le": when(user.date_joined),
            "derniere_connexion": when(user.last_login),
            "actif": user.is_active,
            "roles": sorted(user.groups.values_list("name", flat=True)),
        },
        "adresses_email": [
            {"adresse": address.email, "verifiee": address.verified, "principale": address.primary}
            for address in EmailAddress.objects.filter(user=user).order_by("email")
        ],
        "equipes": [
            {"pole": m.consortium.name, "role": m.get_role_display(), "depuis_le": when(m.joined_at)}
            for m in memberships
        ],
        "poles_crees": [
            {"pole": c.name, "cree_le": when(c.created_at)}
            for c in Consortium.objects.filter(created_by=user).order_by("created_at")
        ],
        "invitations": [
            {
                "pole": i.consortium.name,
                "adresse_invitee": i.email,
                "envoyee_par_vous": i.invited_by_id == user.pk,
                "envoyee_le": when(i.created_at),
                "acceptee_le": when(i.accepted_at),
            }
            for i in invitations.select_related("consortium").order_by("created_at")
        ],
        "rubriques_redigees": [
            {
                "dossier": s.dossier.reference or s.dossier.consortium.name,
                "rubrique": s.key,
                "enregistree_le": when(s.history_date),
                "contenu": s.data,
            }
            for s in sections
        ],
        "versions_deposees": [
            {
                "dossier": s.dossier.consortium.name,
                "numero": s.reference,
                "version": s.version,
                "deposee_le": when(s.submitted_at),
                "empreinte_sha256": s.content_sha256,
            }
            for s in submissions.order_by("submitted_at")
        ],
        "messages": [
            {
                "dossier": str(m.dossier),
                "envoye_le": when(m.created_at),
                "message": m.body,
                "piece_jointe": m.attachment_name,
            }
            for m in messages
        ],
        "fichiers_deposes": [
            {
                "dossier": str(a.dossier),
                "nom": a.original_name,
                "type": a.type.label if a.type else "",
                "format": a.content_type,
                "taille_octets": a.size,
                "empreinte_sha256": a.sha256,
                "depose_le": when(a.uploaded_at),
                "retire_le": when(a.removed_at),
            }
            for a in uploads
        ],
    }


@dataclass(frozen=True)
class Obstacle:
    """Why the account cannot be closed by its holder, in French."""

    message: str


def deletion_obstacles(user: User) -> list[Obstacle]:
    """An account stays while a submitted dossier binds it: a submission commits its team (sworn
    statement, numbered receipt) and must keep identifiable people until the call's archives
    are discarded. Reviewers' and staff's accounts are closed by the program team."""
    from applications.models import Dossier

    obstacles = []
    if user.is_staff or user.is_superuser or user.is_reviewer or user.is_program_staff:
        obstacles.append(
            Obstacle(
                "Votre compte d'évaluateur ou de membre de l'équipe du programme est fermé par l'équipe du "
                "programme : vos évaluations et décisions font partie de l'instruction."
            )
        )
    bound = (
        Dossier.objects.filter(submissions__isnull=False)
        .filter(consortium__memberships__user=user)
        .union(Dossier.objects.filter(submissions__submitted_by=user))
        .order_by("reference")
    )
    for dossier in bound:
        obstacles.append(
            Obstacle(
                f"Un dossier déposé vous engage : le dossier {dossier.reference} a été déposé par vous ou par "
                "une équipe dont vous faites partie. Il doit rester rattaché à des personnes identifiables "
                "pendant son instruction et la durée de conservation des archives de l'appel."
            )
        )
    return obstacles


def close_account(user: User) -> None:
    """Close the account of `user`, who has no obstacle: anonymise it rather than delete it.

    The row stays so that the history (rule 7), whose rows point at their author, is neither
    rewritten nor left with dangling authors; everything that identifies the person goes: e-mail
    addresses, names, password, team memberships, invitations they sent and that are still open.
    """
    from allauth.account.models import EmailAddress

    from applications.models import Invitation, Membership

    if deletion_obstacles(user):
        raise ValueError("This account is bound by a submitted dossier or a role.")
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        for membership in Membership.objects.filter(user=user):
            membership._history_user = user
            membership.delete()
        Invitation.objects.filter(invited_by=user, accepted_at__isnull=True).delete()
        EmailAddress.objects.filter(user=user).delete()
        user.email = f"compte-supprime-{user.pk}@invalid"
        user.first_name = user.last_name = ""
        user.set_unusable_password()
        user.is_active = False
        user.last_login = None
        user.groups.clear()
        user.save()
