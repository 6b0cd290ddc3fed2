import uuid

import pytest
from django.urls import reverse

from accounts.roles import Role
from accounts.tests.factories import UserFactory
from applications import services
from applications.tests.factories import complete_dossier
from conftest import sign_in


@pytest.fixture
def submitted(db, settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}},
    }
    dossier = complete_dossier()
    services.submit_dossier(dossier, by=dossier.consortium.created_by)
    return dossier


def dossier_urls(dossier):
    attachment = dossier.attachments.first()
    return [
        reverse("applications:dossier-overview", args=[dossier.pk]),
        reverse("applications:dossier-section", args=[dossier.pk, "resume"]),
        reverse("applications:dossier-section", args=[dossier.pk, "budget"]),
        reverse("applications:attachment-list", args=[dossier.pk]),
        reverse("applications:attachment-download", args=[dossier.pk, attachment.uuid]),
        reverse("applications:attachment-download", args=[dossier.pk, uuid.uuid4()]),
        reverse("applications:submission-detail", args=[dossier.pk, 1]),
        reverse("applications:submission-pdf", args=[dossier.pk, 1]),
    ]


def test_user_of_another_consortium_gets_404_everywhere(client, submitted):
    sign_in(client, UserFactory(role=Role.APPLICANT))

    statuses = {url: client.get(url).status_code for url in dossier_urls(submitted)}

    assert set(statuses.values()) == {404}


def test_anonymous_is_sent_to_log_in(client, submitted):
    for url in dossier_urls(submitted):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))


def test_owner_sees_the_receipt(client, submitted):
    sign_in(client, submitted.consortium.created_by)

    response = client.get(reverse("applications:submission-detail", args=[submitted.pk, 1]))

    assert response.status_code == 200
    assert submitted.reference in response.content.decode()


def test_foreign_user_cannot_submit_or_withdraw(client, submitted):
    sign_in(client, UserFactory(role=Role.APPLICANT))

    assert client.post(reverse("applications:dossier-submit", args=[submitted.pk])).status_code == 404
    assert (
        client.post(reverse("applications:dossier-withdraw", args=[submitted.pk]), {"reason": "x"}).status_code == 404
    )
