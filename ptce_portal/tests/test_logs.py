"""The logs carry no password, token or file content: every record of sensitive journeys, at DEBUG."""

import logging
import re

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.roles import Role
from accounts.tests.factories import PASSWORD, UserFactory
from applications.consortia import invite_member
from applications.models import Attachment, Membership
from applications.tests.factories import ConsortiumFactory, DossierFactory
from applications.tests.test_uploads import pdf_bytes
from conftest import sign_in

pytestmark = pytest.mark.django_db

WRONG_PASSWORD = "Mauvais-Mot-De-Passe-7319"
NEW_PASSWORD = "Nouveau-Mot-De-Passe-8462"
FILE_MARKER = "CONTENU-CONFIDENTIEL-5521"


@pytest.fixture
def records(caplog):
    caplog.set_level(logging.DEBUG)  # the root logger: every logger propagates to it
    return caplog


def logged(records) -> str:
    """Each record as our handlers write it: message with its arguments, and any traceback."""
    lines = []
    for record in records.records:
        lines.append(record.getMessage())
        if record.exc_info:
            lines.append(logging.Formatter().formatException(record.exc_info))
    return "\n".join(lines)


def assert_absent(records, *secrets: str) -> None:
    text = logged(records)
    assert [secret for secret in secrets if secret in text] == []


def test_log_ins_failed_and_successful_log_no_password(client, records):
    user = UserFactory(role=Role.APPLICANT)

    failed = client.post(reverse("account_login"), {"login": user.email, "password": WRONG_PASSWORD})
    succeeded = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})

    assert (failed.status_code, succeeded.status_code) == (200, 302)
    assert records.records != []  # the journey is logged, and the check below has something to read
    assert_absent(records, WRONG_PASSWORD, PASSWORD, user.password)


def test_a_password_reset_logs_neither_its_key_nor_the_new_password(client, records):
    user = UserFactory(role=Role.APPLICANT)

    client.post(reverse("account_reset_password"), {"email": user.email})
    link = re.search(r"https?://[^\s]+/accounts/password/reset/key/([^\s/]+)/", mail.outbox[0].body)
    form = client.get(link.group(0), follow=True)
    done = client.post(form.redirect_chain[-1][0], {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})

    user.refresh_from_db()
    assert (done.status_code, user.check_password(NEW_PASSWORD)) == (302, True)
    key = link.group(1)
    assert_absent(records, key, key.split("-", 1)[-1], NEW_PASSWORD, user.password)


def test_accepting_an_invitation_logs_no_token(client, records):
    consortium = ConsortiumFactory()
    invitee = UserFactory(role=Role.APPLICANT, email="invitee@exemple.fr")
    invitation = invite_member(consortium, email=invitee.email, role=Membership.Role.EDITOR, by=consortium.created_by)
    url = reverse("applications:invitation-accept", args=[invitation.token])
    sign_in(client, invitee)

    client.get(url)
    accepted = client.post(url)
    used_again = client.post(url)  # a second click on the e-mail's link: refused, and still not logged

    assert (accepted.status_code, used_again.status_code) == (302, 410)
    assert Membership.objects.filter(consortium=consortium, user=invitee).count() == 1
    assert_absent(records, invitation.token)


def test_an_upload_logs_no_file_content(client, records, media, applicant):
    dossier = DossierFactory(consortium=ConsortiumFactory(owner=applicant))
    statuts = dossier.call.attachment_types.get(code="statuts")
    data = pdf_bytes() + f"% {FILE_MARKER}\n".encode()
    sign_in(client, applicant)

    response = client.post(
        reverse("applications:attachment-list", args=[dossier.pk]),
        {
            "attachment_type": statuts.pk,
            "file": SimpleUploadedFile("statuts.pdf", data, content_type="application/pdf"),
        },
    )

    assert (response.status_code, Attachment.objects.filter(dossier=dossier).count()) == (302, 1)
    assert_absent(records, FILE_MARKER)
