"""The accessibility statement and the legal notice are one click away from every page."""

import pytest
from django.urls import reverse

from conftest import sign_in

FOOTER_LINKS = ['href="/accessibilite/"', 'href="/mentions-legales/"']


def links_on(response) -> list[str]:
    assert response.status_code == 200
    html = response.content.decode()
    return [link for link in FOOTER_LINKS if link in html]


@pytest.mark.parametrize(
    "url_name", ["home", "accessibility", "legal", "account_login", "account_signup", "account_reset_password"]
)
def test_public_pages_link_the_statements(client, db, url_name):
    assert links_on(client.get(reverse(url_name))) == FOOTER_LINKS


@pytest.mark.parametrize("url_name", ["applications:dashboard", "privacy:page"])
def test_applicant_pages_link_the_statements(client, applicant, url_name):
    sign_in(client, applicant)

    assert links_on(client.get(reverse(url_name))) == FOOTER_LINKS


def test_admin_pages_link_the_statements(client, program_staff):
    sign_in(client, program_staff)

    assert links_on(client.get(reverse("admin:index"))) == FOOTER_LINKS
