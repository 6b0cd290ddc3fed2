"""Failed log-ins, sign-ups, password resets and team invitations are throttled (allauth's rate
limits, kept in the Redis cache)."""

import html
import time

import pytest
from allauth.core.internal import ratelimit
from django.urls import reverse

from accounts.roles import Role
from accounts.tests.factories import PASSWORD, UserFactory
from applications.models import Invitation
from applications.tests.factories import ConsortiumFactory
from conftest import sign_in

TOO_MANY_LOG_INS = "Trop de tentatives de connexion échouées. Veuillez réessayer ultérieurement."
WRONG_PASSWORD = "L’adresse e-mail ou le mot de passe sont incorrects."
TOO_MANY_REQUESTS = "Vous avez envoyé trop de demandes en peu de temps."
TOO_MANY_INVITATIONS = "Vous avez envoyé trop d'invitations en peu de temps. Veuillez réessayer plus tard."


class Clock:
    """allauth's rate limits read time.time(): the test moves it forward instead of waiting."""

    def __init__(self):
        self.offset = 0.0

    def time(self):
        return time.time() + self.offset

    def __getattr__(self, name):
        return getattr(time, name)


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(ratelimit, "time", clock)
    return clock


def log_in(client, email, password, address="192.0.2.10"):
    response = client.post(reverse("account_login"), {"login": email, "password": password}, REMOTE_ADDR=address)
    return response, response.content.decode().replace("'", "’")


@pytest.mark.parametrize("exists", [True, False], ids=["existing-account", "unknown-account"])
def test_five_failures_lock_the_account_out_with_the_same_message(client, db, exists):
    if exists:
        UserFactory(email="cible@exemple.fr")
    for _ in range(5):
        _, text = log_in(client, "cible@exemple.fr", "mauvais-mot-de-passe")
        assert WRONG_PASSWORD in text

    response, text = log_in(client, "cible@exemple.fr", PASSWORD if exists else "mauvais-mot-de-passe")

    assert response.status_code == 200
    assert TOO_MANY_LOG_INS in text
    assert WRONG_PASSWORD not in text
    assert "_auth_user_id" not in client.session


def test_the_lock_is_per_account_and_lifts_after_fifteen_minutes(client, db, clock):
    user = UserFactory(email="cible@exemple.fr")
    UserFactory(email="voisine@exemple.fr")
    for _ in range(5):
        log_in(client, "cible@exemple.fr", "mauvais-mot-de-passe")

    # Another account from the same address is not locked.
    response, _ = log_in(client, "voisine@exemple.fr", PASSWORD)
    assert response.status_code == 302
    client.post(reverse("account_logout"))

    clock.offset = 14 * 60
    assert TOO_MANY_LOG_INS in log_in(client, "cible@exemple.fr", PASSWORD)[1]
    clock.offset = 15 * 60 + 1
    response, _ = log_in(client, "cible@exemple.fr", PASSWORD)

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_one_address_trying_many_accounts_is_throttled(client, db):
    for number in range(20):
        log_in(client, f"personne{number}@exemple.fr", "mauvais-mot-de-passe")
    UserFactory(email="jamais-essayee@exemple.fr")

    blocked = log_in(client, "jamais-essayee@exemple.fr", PASSWORD)[1]
    other_address, _ = log_in(client, "jamais-essayee@exemple.fr", PASSWORD, address="198.51.100.7")

    assert TOO_MANY_LOG_INS in blocked
    assert other_address.status_code == 302


def test_admin_login_page_sends_to_the_portal_login(client, db):
    user = UserFactory(email="staff@exemple.fr", is_staff=True)

    shown = client.get("/admin/login/?next=/admin/")
    posted = client.post("/admin/login/?next=/admin/", {"username": user.email, "password": PASSWORD})

    assert (shown.status_code, shown["Location"]) == (302, "/accounts/login/?next=%2Fadmin%2F")
    assert posted.status_code == 302
    assert posted["Location"].startswith("/accounts/login/")
    assert "_auth_user_id" not in client.session


def test_signed_in_staff_posting_credentials_to_the_admin_login_checks_no_password(client, db):
    staff = UserFactory(email="staff@exemple.fr", role=Role.PROGRAM_STAFF)
    other = UserFactory(email="autre@exemple.fr", role=Role.PROGRAM_STAFF)
    sign_in(client, staff)

    response = client.post("/admin/login/?next=/admin/", {"username": other.email, "password": PASSWORD})

    assert (response.status_code, response["Location"]) == (302, "/admin/")
    assert client.session["_auth_user_id"] == str(staff.pk)


def test_sign_ups_are_throttled_per_address(client, db):
    for number in range(5):
        response = client.post(
            reverse("account_signup"),
            {"email": f"nouvelle{number}@exemple.fr", "password1": PASSWORD, "password2": PASSWORD},
        )
        assert response.status_code == 302

    response = client.post(
        reverse("account_signup"), {"email": "encore@exemple.fr", "password1": PASSWORD, "password2": PASSWORD}
    )

    assert response.status_code == 429
    assert TOO_MANY_REQUESTS in response.content.decode()


def test_password_resets_are_throttled_per_address_and_account(client, db):
    UserFactory(email="oubli@exemple.fr")
    for _ in range(3):
        assert client.post(reverse("account_reset_password"), {"email": "oubli@exemple.fr"}).status_code == 302

    response = client.post(reverse("account_reset_password"), {"email": "oubli@exemple.fr"})

    assert response.status_code == 429
    assert TOO_MANY_REQUESTS in response.content.decode()


def test_team_invitations_are_throttled_per_user(client, db):
    consortium = ConsortiumFactory()
    sign_in(client, consortium.created_by)
    url = reverse("applications:team", args=[consortium.pk])
    for number in range(20):
        response = client.post(url, {"email": f"invite{number}@exemple.fr", "role": "editor"})
        assert response.status_code == 302

    response = client.post(url, {"email": "une-de-trop@exemple.fr", "role": "editor"})

    assert response.status_code == 200
    assert TOO_MANY_INVITATIONS in html.unescape(response.content.decode())
    assert Invitation.objects.filter(consortium=consortium).count() == 20
