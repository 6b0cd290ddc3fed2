import re

from django.core import mail
from django.urls import reverse

from accounts.models import User
from accounts.tests.factories import PASSWORD, UserFactory


def test_signup_sends_verification_and_verified_user_is_logged_in(client, db):
    response = client.post(
        reverse("account_signup"),
        {"email": "Nouvelle@Exemple.fr", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["nouvelle@exemple.fr"]
    assert "Portail PTCE" in message.subject
    link = re.search(r"https?://[^\s]+/accounts/confirm-email/[^\s]+/", message.body).group(0)
    path = link.split("testserver", 1)[-1] if "testserver" in link else "/" + link.split("/", 3)[3]

    confirm_page = client.get(path)
    assert confirm_page.status_code == 200
    assert "Confirmer" in confirm_page.content.decode()
    confirmed = client.post(path)

    assert confirmed.status_code == 302
    user = User.objects.get(email="nouvelle@exemple.fr")
    assert client.session["_auth_user_id"] == str(user.pk)
    assert sorted(user.role_names) == ["Porteur de projet"]
    assert user.is_staff is False


def test_unverified_user_cannot_log_in(client, db):
    UserFactory(email="pas-verifie@exemple.fr", verified=False)

    response = client.post(reverse("account_login"), {"login": "pas-verifie@exemple.fr", "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert "_auth_user_id" not in client.session


def test_verified_user_logs_in_with_email(client, db):
    user = UserFactory(email="verifie@exemple.fr")

    response = client.post(reverse("account_login"), {"login": "VERIFIE@exemple.fr", "password": PASSWORD})

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_wrong_password_gets_a_french_message(client, db):
    UserFactory(email="verifie@exemple.fr")

    response = client.post(reverse("account_login"), {"login": "verifie@exemple.fr", "password": "faux"})

    assert response.status_code == 200
    assert "L’adresse e-mail ou le mot de passe sont incorrects." in (response.content.decode().replace("'", "’"))
