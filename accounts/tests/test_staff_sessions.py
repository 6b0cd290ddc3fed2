"""Staff and reviewer sessions end at browser close and after 30 idle minutes; applicants keep
Django's default session."""

import html
import time

from django.conf import settings
from django.urls import reverse

from accounts.middleware import LAST_SEEN_KEY
from accounts.roles import Role
from accounts.tests.factories import PASSWORD, UserFactory, totp_code
from conftest import sign_in, totp_authenticator

IDLE_MESSAGE = "Votre session a expiré après 30 minutes d'inactivité. Veuillez vous reconnecter."


def log_in_remembered(client, user):
    """Logs in through the form, ticking "Se souvenir de moi", and gives the code if asked."""
    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD, "remember": "on"})
    if response["Location"] == reverse("mfa_authenticate"):
        client.post(reverse("mfa_authenticate"), {"code": totp_code(user)})
    return client


def session_cookie(response):
    return response.cookies.get(settings.SESSION_COOKIE_NAME)


def test_idle_timeout_is_thirty_minutes():
    assert settings.STAFF_SESSION_IDLE_TIMEOUT == 30 * 60


def test_staff_session_ends_with_the_browser_even_when_remembered(client, db):
    staff = UserFactory(role=Role.PROGRAM_STAFF)
    totp_authenticator(staff)
    log_in_remembered(client, staff)

    response = client.get(reverse("admin:index"))

    assert response.status_code == 200
    assert client.session.get_expire_at_browser_close() is True
    cookie = session_cookie(response)
    assert cookie is not None
    assert (cookie["max-age"], cookie["expires"]) == ("", "")


def test_applicant_remembered_session_is_kept(client, applicant):
    log_in_remembered(client, applicant)

    response = client.get(reverse("applications:dashboard"))

    assert response.status_code == 200
    assert client.session.get_expire_at_browser_close() is False
    assert client.session.get_expiry_age() == settings.SESSION_COOKIE_AGE


def set_last_seen(client, seconds_ago):
    session = client.session
    session[LAST_SEEN_KEY] = int(time.time()) - seconds_ago
    session.save()


def test_staff_idle_for_thirty_minutes_is_logged_out(client, reviewer):
    sign_in(client, reviewer)
    set_last_seen(client, 30 * 60 + 5)

    response = client.get("/admin/reviews/assignment/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/admin/reviews/assignment/"
    assert "_auth_user_id" not in client.session
    login_page = client.get(response["Location"])
    assert IDLE_MESSAGE in html.unescape(login_page.content.decode())


def test_staff_activity_keeps_the_session_alive(client, program_staff):
    sign_in(client, program_staff)
    set_last_seen(client, 29 * 60)

    response = client.get("/programme/")

    assert response.status_code == 200
    assert time.time() - client.session[LAST_SEEN_KEY] < 5


def test_applicant_is_not_logged_out_when_idle(client, applicant):
    sign_in(client, applicant)
    set_last_seen(client, 3 * 60 * 60)

    response = client.get(reverse("applications:dashboard"))

    assert response.status_code == 200
    assert client.session["_auth_user_id"] == str(applicant.pk)
