"""TOTP two-factor authentication, required for reviewers and program staff (allauth.mfa)."""

import html

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from django.contrib.auth.models import Group
from django.urls import reverse

from accounts.roles import Role
from accounts.tests.factories import PASSWORD, UserFactory, code_for_secret, totp_code
from conftest import sign_in, totp_authenticator

ADMIN = "/admin/"
PROGRAMME = "/programme/"


def log_in_with_password(client, user):
    return client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})


def is_signed_in(client, user) -> bool:
    return client.session.get("_auth_user_id") == str(user.pk)


@pytest.mark.parametrize("role", [Role.PROGRAM_STAFF, Role.REVIEWER])
def test_staff_without_authenticator_is_sent_to_enrol(client, db, role):
    user = UserFactory(role=role)
    log_in_with_password(client, user)

    for url in (ADMIN, PROGRAMME, reverse("applications:dashboard")):
        response = client.get(url)
        assert (response.status_code, response["Location"]) == (302, reverse("mfa_activate_totp"))

    page = client.get(reverse("mfa_activate_totp"))
    text = page.content.decode()
    assert page.status_code == 200
    assert "La double authentification est obligatoire pour votre compte" in text
    assert "la double authentification y est obligatoire" in text


def test_staff_enrols_then_gets_into_admin_and_programme(client, transactional_db):
    # transactional_db: allauth announces the new authenticator once committed, as in production.
    staff = UserFactory(role=Role.PROGRAM_STAFF)
    log_in_with_password(client, staff)
    client.get(reverse("mfa_activate_totp"))
    secret = client.session["mfa.totp.secret"]

    response = client.post(reverse("mfa_activate_totp"), {"code": code_for_secret(secret)})

    assert (response.status_code, response["Location"]) == (302, reverse("mfa_view_recovery_codes"))
    assert Authenticator.objects.filter(user=staff, type=Authenticator.Type.TOTP).count() == 1
    codes_page = client.get(reverse("mfa_view_recovery_codes"))
    assert len(RecoveryCodes(Authenticator.objects.get(user=staff, type="recovery_codes")).get_unused_codes()) == 10
    assert "Continuer vers l'administration" in codes_page.content.decode()
    assert client.get(ADMIN).status_code == 200
    assert client.get(PROGRAMME).status_code == 200


def test_wrong_code_does_not_enrol(client, db):
    staff = UserFactory(role=Role.PROGRAM_STAFF)
    log_in_with_password(client, staff)
    client.get(reverse("mfa_activate_totp"))

    response = client.post(reverse("mfa_activate_totp"), {"code": "000000"})

    assert response.status_code == 200
    assert "Code incorrect." in response.content.decode()
    assert not Authenticator.objects.filter(user=staff).exists()
    assert client.get(ADMIN)["Location"] == reverse("mfa_activate_totp")


def test_log_in_asks_for_the_code_before_the_admin_opens(client, db):
    reviewer = UserFactory(role=Role.REVIEWER)
    totp_authenticator(reviewer)

    response = log_in_with_password(client, reviewer)

    assert (response.status_code, response["Location"]) == (302, reverse("mfa_authenticate"))
    assert not is_signed_in(client, reviewer)
    assert client.get(ADMIN).status_code == 302
    wrong = client.post(reverse("mfa_authenticate"), {"code": "000000"})
    assert "Code incorrect." in wrong.content.decode()
    assert not is_signed_in(client, reviewer)

    client.post(reverse("mfa_authenticate"), {"code": totp_code(reviewer)})

    assert is_signed_in(client, reviewer)
    assert client.get(ADMIN).status_code == 200


def test_a_recovery_code_works_once(client, db):
    staff = UserFactory(role=Role.PROGRAM_STAFF)
    totp_authenticator(staff)
    code = RecoveryCodes.activate(staff).get_unused_codes()[0]

    log_in_with_password(client, staff)
    client.post(reverse("mfa_authenticate"), {"code": code})
    assert is_signed_in(client, staff)
    assert client.get(PROGRAMME).status_code == 200

    client.post(reverse("account_logout"))
    log_in_with_password(client, staff)
    again = client.post(reverse("mfa_authenticate"), {"code": code})

    assert "Code incorrect." in again.content.decode()
    assert not is_signed_in(client, staff)


def test_signed_in_staff_without_second_factor_in_session_is_asked_for_a_code(client, db):
    staff = UserFactory(role=Role.PROGRAM_STAFF)
    totp_authenticator(staff)
    client.force_login(staff)  # a session that never went through the code (not sign_in)

    response = client.get(PROGRAMME)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('mfa_reauthenticate')}?next=%2Fprogramme%2F"
    client.post(response["Location"], {"code": totp_code(staff)})
    assert client.get(PROGRAMME).status_code == 200


def test_applicant_is_not_asked_for_a_second_factor(client, applicant):
    response = log_in_with_password(client, applicant)

    assert response.status_code == 302
    assert is_signed_in(client, applicant)
    assert client.get(reverse("applications:dashboard")).status_code == 200


def test_programme_group_without_admin_access_is_refused(client, db):
    user = UserFactory()
    user.groups.add(Group.objects.get(name=Role.PROGRAM_STAFF.label))
    client.force_login(user)

    assert client.get(PROGRAMME).status_code == 403


def test_staff_cannot_switch_their_authenticator_off(client, program_staff):
    sign_in(client, program_staff)
    session = client.session
    session["account_authentication_methods"][-1]["reauthenticated"] = True  # fresh, as after a code
    session.save()

    response = client.post(reverse("mfa_deactivate_totp"))

    assert response.status_code == 200
    assert "Vous ne pouvez pas désactiver l'authentification à deux facteurs." in html.unescape(
        response.content.decode()
    )
    assert Authenticator.objects.filter(user=program_staff, type=Authenticator.Type.TOTP).count() == 1
