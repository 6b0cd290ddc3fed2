import datetime as dt
import html
import re

import pytest
from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.tests.factories import PASSWORD, UserFactory
from applications.consortia import accept_invitation, invite_member
from applications.models import Invitation, Membership
from applications.tests.factories import ConsortiumFactory, add_member
from conftest import sign_in

pytestmark = pytest.mark.django_db


def page(response) -> str:
    return html.unescape(response.content.decode())


def accept_url(invitation: Invitation) -> str:
    return reverse("applications:invitation-accept", args=[invitation.token])


def make_invitation(*, email="invitee@exemple.fr", role=Membership.Role.EDITOR, **fields) -> Invitation:
    consortium = fields.pop("consortium", None) or ConsortiumFactory(name="Cité Phares")
    invitation = invite_member(consortium, email=email, role=role, by=consortium.created_by)
    if fields:
        Invitation.objects.filter(pk=invitation.pk).update(**fields)
        invitation.refresh_from_db()
    return invitation


# --- Inviting ---


def test_owner_invites_and_a_french_email_with_the_link_is_sent(client, django_capture_on_commit_callbacks):
    consortium = ConsortiumFactory(name="Cité Phares")
    sign_in(client, consortium.created_by)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("applications:team", args=[consortium.pk]), {"email": "Invitee@Exemple.fr", "role": "reader"}
        )

    invitation = Invitation.objects.get()
    assert response.status_code == 302
    assert (invitation.email, invitation.role, invitation.invited_by) == (
        "invitee@exemple.fr",
        Membership.Role.READER,
        consortium.created_by,
    )
    assert len(invitation.token) >= 43
    assert abs(invitation.expires_at - invitation.created_at - dt.timedelta(days=14)) < dt.timedelta(seconds=5)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["invitee@exemple.fr"]
    assert message.subject == "[Portail PTCE] Invitation à rejoindre le pôle Cité Phares"
    assert f"{settings.SITE_URL}{accept_url(invitation)}" in message.body
    assert "vous invite à rejoindre l'équipe du pôle « Cité Phares »" in message.body
    assert "en tant que lecteur" in message.body


def test_no_email_is_sent_before_the_transaction_commits(django_capture_on_commit_callbacks):
    consortium = ConsortiumFactory()

    with django_capture_on_commit_callbacks() as callbacks:
        invite_member(consortium, email="invitee@exemple.fr", role=Membership.Role.EDITOR, by=consortium.created_by)

    assert (len(callbacks), len(mail.outbox)) == (1, 0)


def test_inviting_a_member_is_refused_with_a_french_message(client):
    consortium = ConsortiumFactory()
    member = add_member(consortium, Membership.Role.READER, UserFactory(email="membre@exemple.fr")).user
    sign_in(client, consortium.created_by)

    response = client.post(
        reverse("applications:team", args=[consortium.pk]), {"email": member.email.upper(), "role": "editor"}
    )

    assert response.status_code == 200
    assert response.context["form"].errors["email"] == ["Cette personne fait déjà partie de l'équipe du pôle."]
    assert Invitation.objects.count() == 0


def test_reinviting_a_pending_address_revokes_the_older_invitation():
    first = make_invitation(email="invitee@exemple.fr")

    second = invite_member(
        first.consortium, email="INVITEE@exemple.fr", role=Membership.Role.READER, by=first.consortium.created_by
    )

    first.refresh_from_db()
    assert first.revoked_at is not None
    assert second.revoked_at is None
    assert list(first.consortium.invitations.filter(revoked_at=None)) == [second]


@pytest.mark.parametrize("role", [Membership.Role.EDITOR, Membership.Role.READER])
def test_editor_or_reader_cannot_invite(client, role):
    consortium = ConsortiumFactory()
    user = add_member(consortium, role).user
    sign_in(client, user)

    response = client.post(
        reverse("applications:team", args=[consortium.pk]), {"email": "invitee@exemple.fr", "role": "editor"}
    )

    assert response.status_code == 403
    assert Invitation.objects.count() == 0


@pytest.mark.parametrize("role", [Membership.Role.EDITOR, Membership.Role.READER])
def test_editor_or_reader_sees_the_team_without_invite_form(client, role):
    invitation = make_invitation()
    user = add_member(invitation.consortium, role).user
    sign_in(client, user)

    response = client.get(reverse("applications:team", args=[invitation.consortium.pk]))

    assert response.status_code == 200
    assert response.context["form"] is None
    assert invitation.email in page(response)
    assert "Envoyer l'invitation" not in page(response)
    assert "Annuler l'invitation" not in page(response)


def test_owner_sees_pending_invitations_and_the_invite_form(client):
    invitation = make_invitation()
    sign_in(client, invitation.consortium.created_by)

    response = client.get(reverse("applications:team", args=[invitation.consortium.pk]))

    assert list(response.context["pending"]) == [invitation]
    assert "Envoyer l'invitation" in page(response)
    assert reverse("applications:invitation-revoke", args=[invitation.consortium.pk, invitation.pk]) in page(response)


# --- Revoking ---


def test_owner_revokes_an_invitation_and_its_link_stops_working(client):
    invitation = make_invitation()
    sign_in(client, invitation.consortium.created_by)

    response = client.post(reverse("applications:invitation-revoke", args=[invitation.consortium.pk, invitation.pk]))

    invitation.refresh_from_db()
    assert response.status_code == 302
    assert invitation.revoked_at is not None
    client.logout()
    assert client.get(accept_url(invitation)).status_code == 410


def test_revoke_needs_post(client):
    invitation = make_invitation()
    sign_in(client, invitation.consortium.created_by)

    response = client.get(reverse("applications:invitation-revoke", args=[invitation.consortium.pk, invitation.pk]))

    assert response.status_code == 405


def test_editor_cannot_revoke(client):
    invitation = make_invitation()
    editor = add_member(invitation.consortium, Membership.Role.EDITOR).user
    sign_in(client, editor)

    response = client.post(reverse("applications:invitation-revoke", args=[invitation.consortium.pk, invitation.pk]))

    invitation.refresh_from_db()
    assert response.status_code == 403
    assert invitation.revoked_at is None


def test_invitation_of_another_consortium_cannot_be_revoked_through_mine(client):
    invitation = make_invitation()
    mine = ConsortiumFactory()
    sign_in(client, mine.created_by)

    response = client.post(reverse("applications:invitation-revoke", args=[mine.pk, invitation.pk]))

    invitation.refresh_from_db()
    assert response.status_code == 404
    assert invitation.revoked_at is None


# --- Accepting ---


def test_anonymous_sees_the_invitation_with_login_and_signup_links(client):
    invitation = make_invitation()

    response = client.get(accept_url(invitation))

    content = page(response)
    assert response.status_code == 200
    assert "Cité Phares" in content
    assert "rédacteur" in content
    assert str(invitation.invited_by) in content
    next_query = "next=" + accept_url(invitation).replace("/", "%2F")
    assert f"{reverse('account_login')}?{next_query}" in content
    assert f"{reverse('account_signup')}?{next_query}" in content


def test_anonymous_post_is_sent_to_login(client):
    invitation = make_invitation()

    response = client.post(accept_url(invitation))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert Membership.objects.filter(consortium=invitation.consortium).count() == 1


def test_unknown_token_is_404(client):
    assert client.get(reverse("applications:invitation-accept", args=["inconnu"])).status_code == 404


def test_existing_account_with_matching_email_accepts_and_gets_the_role(client):
    invitation = make_invitation(email="invitee@exemple.fr", role=Membership.Role.READER)
    user = UserFactory(email="invitee@exemple.fr")
    sign_in(client, user)

    page_before = client.get(accept_url(invitation))
    response = client.post(accept_url(invitation))

    invitation.refresh_from_db()
    assert "Rejoindre le pôle" in page(page_before)
    assert response.status_code == 302
    assert response["Location"] == invitation.consortium.get_absolute_url()
    assert Membership.objects.get(consortium=invitation.consortium, user=user).role == Membership.Role.READER
    assert (invitation.accepted_by, invitation.accepted_at is not None) == (user, True)


def test_email_is_compared_case_insensitively():
    invitation = make_invitation(email="Invitee@Exemple.fr")
    user = UserFactory(email="invitee@exemple.FR")

    membership = accept_invitation(invitation, user=user)

    assert membership.role == Membership.Role.EDITOR


def test_new_account_signs_up_then_accepts(client):
    invitation = make_invitation(email="nouvelle@exemple.fr")
    mail.outbox.clear()

    client.post(
        f"{reverse('account_signup')}?next={accept_url(invitation)}",
        {"email": "nouvelle@exemple.fr", "password1": PASSWORD, "password2": PASSWORD},
    )
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", mail.outbox[0].body).group(0)
    confirmed = client.post("/" + link.split("/", 3)[3])
    response = client.post(accept_url(invitation))

    user = User.objects.get(email="nouvelle@exemple.fr")
    assert confirmed["Location"] == accept_url(invitation)
    assert response.status_code == 302
    assert Membership.objects.get(consortium=invitation.consortium, user=user).role == Membership.Role.EDITOR


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"expires_at": timezone.now() - dt.timedelta(minutes=1)}, "Cette invitation a expiré."),
        ({"revoked_at": timezone.now()}, "Cette invitation a été annulée par l'équipe du pôle."),
        ({"accepted_at": timezone.now()}, "Cette invitation a déjà été utilisée."),
    ],
    ids=["expired", "revoked", "used"],
)
def test_unusable_invitation_is_refused(client, fields, message):
    invitation = make_invitation(email="invitee@exemple.fr", **fields)
    user = UserFactory(email="invitee@exemple.fr")
    sign_in(client, user)

    shown = client.get(accept_url(invitation))
    response = client.post(accept_url(invitation))

    assert (shown.status_code, response.status_code) == (410, 410)
    assert message in page(response)
    assert not Membership.objects.filter(user=user).exists()
    with pytest.raises(ValidationError) as error:
        accept_invitation(invitation, user=user)
    assert error.value.messages[0].startswith(message)


def test_invitation_is_used_only_once(client):
    invitation = make_invitation(email="invitee@exemple.fr")
    user = UserFactory(email="invitee@exemple.fr")
    sign_in(client, user)
    client.post(accept_url(invitation))

    again = client.post(accept_url(invitation))

    assert again.status_code == 410
    assert "Cette invitation a déjà été utilisée." in page(again)


def test_account_with_another_email_is_refused(client):
    invitation = make_invitation(email="invitee@exemple.fr")
    intruder = UserFactory(email="autre@exemple.fr")
    sign_in(client, intruder)

    shown = client.get(accept_url(invitation))
    response = client.post(accept_url(invitation))

    invitation.refresh_from_db()
    assert "Rejoindre le pôle" not in page(shown)
    assert response.status_code == 403
    assert "envoyée à une autre adresse e-mail" in page(response)
    assert not Membership.objects.filter(user=intruder).exists()
    assert invitation.accepted_at is None
    with pytest.raises(ValidationError):
        accept_invitation(invitation, user=intruder)


def test_existing_member_keeps_their_role_when_accepting():
    invitation = make_invitation(email="invitee@exemple.fr", role=Membership.Role.READER)
    # Added as owner after being invited as reader.
    user = add_member(invitation.consortium, Membership.Role.OWNER, UserFactory(email="invitee@exemple.fr")).user

    membership = accept_invitation(invitation, user=user)

    invitation.refresh_from_db()
    assert membership.role == Membership.Role.OWNER
    assert invitation.accepted_by == user
