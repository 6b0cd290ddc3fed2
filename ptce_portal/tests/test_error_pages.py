"""Error pages speak French and reveal nothing: no path echoed, no exception, no stack."""

import pytest
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_unknown_address_answers_a_french_404_without_echoing_it(client):
    response = client.get("/adresse-inconnue-<script>/")

    assert response.status_code == 404
    page = response.content.decode()
    assert '<html lang="fr">' in page
    assert "Page introuvable" in page
    assert "adresse-inconnue" not in page


def test_a_form_without_its_token_gets_the_french_expired_form_page():
    client = Client(enforce_csrf_checks=True)

    response = client.post(reverse("account_login"), {"login": "x@example.org", "password": "x"})

    assert response.status_code == 403
    assert "Formulaire expiré" in response.content.decode()


def test_the_server_error_page_renders_without_a_request():
    page = render_to_string("500.html")

    assert "Erreur du serveur" in page
    assert '<html lang="fr">' in page


def test_a_bad_request_gets_the_french_page_without_a_request_context():
    # Django renders 400.html with no context at all (DisallowedHost, bad multipart...).
    response = Client(HTTP_HOST="attacker.example").get("/")

    assert response.status_code == 400
    assert "Demande incorrecte" in response.content.decode()
