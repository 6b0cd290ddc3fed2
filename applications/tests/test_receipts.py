import time

import pytest
from django.core import mail
from django.urls import reverse

from accounts.tests.factories import UserFactory
from applications.documents import send_submission_receipts
from applications.models import Membership
from applications.tasks import send_submission_receipts_task
from jobs.models import Job
from ptce_portal.celery import app as celery_app

from .factories import DossierFactory, add_member
from .snapshots import create_submission


@pytest.fixture
def team_submission(db, settings):
    """A submission whose pole has an owner, an editor, a reader and a deactivated editor."""
    settings.SITE_URL = "https://ptce.example.gouv.fr"
    dossier = DossierFactory(consortium__created_by=UserFactory(email="direction@halage.fr"))
    add_member(dossier.consortium, Membership.Role.EDITOR, UserFactory(email="projets@halage.fr"))
    add_member(dossier.consortium, Membership.Role.READER, UserFactory(email="compta@halage.fr"))
    add_member(dossier.consortium, Membership.Role.EDITOR, UserFactory(email="parti@halage.fr", is_active=False))
    return create_submission(dossier, reference="PTCE-2013-0042")


def test_receipts_go_once_to_each_active_team_member(team_submission):
    sent = send_submission_receipts(team_submission)

    assert sent == 3
    assert [message.to for message in mail.outbox] == [
        ["compta@halage.fr"],
        ["direction@halage.fr"],
        ["projets@halage.fr"],
    ]
    team_submission.refresh_from_db()
    assert team_submission.receipts_sent_at is not None


def test_second_call_sends_nothing(team_submission):
    send_submission_receipts(team_submission)
    team_submission.refresh_from_db()
    first_sent_at = team_submission.receipts_sent_at

    assert send_submission_receipts(team_submission.pk) == 0

    team_submission.refresh_from_db()
    assert len(mail.outbox) == 3
    assert team_submission.receipts_sent_at == first_sent_at


def test_receipt_states_reference_time_hash_and_what_counts(team_submission):
    send_submission_receipts(team_submission)

    message = mail.outbox[0]
    url = "https://ptce.example.gouv.fr" + reverse(
        "applications:submission-detail", args=[team_submission.dossier_id, 1]
    )
    assert message.subject == "Accusé de réception — dossier PTCE-2013-0042"
    body_lines = message.body.splitlines()
    assert "Numéro du dossier : PTCE-2013-0042" in body_lines
    assert "Déposé le : 30 octobre 2013 à 23:59:59 (heure de Paris)" in body_lines
    assert team_submission.content_sha256 in body_lines
    assert url in body_lines
    assert "Cette version fait foi jusqu'à un éventuel nouveau dépôt avant la date limite." in message.body
    assert "« Cité Phares »" in message.body  # plain text: no HTML escaping of quotes or accents


def test_receipt_of_a_resubmission_names_its_version(team_submission):
    resubmission = create_submission(team_submission.dossier, version=2, reference="PTCE-2013-0042-V2")

    send_submission_receipts(resubmission)

    assert mail.outbox[0].subject == "Accusé de réception — dossier PTCE-2013-0042-V2"
    assert "Numéro du dossier : PTCE-2013-0042-V2 (version 2)" in mail.outbox[0].body.splitlines()


def test_receipts_task_is_routed_to_the_email_queue():
    route = celery_app.amqp.router.route({}, send_submission_receipts_task.name)

    assert (send_submission_receipts_task.name, route["queue"].name) == (
        "applications.tasks.send_submission_receipts_task",
        "email",
    )


def test_receipts_task_sends_then_does_nothing(team_submission):
    assert send_submission_receipts_task(submission_id=team_submission.pk) == 3
    assert send_submission_receipts_task(submission_id=team_submission.pk) == 0


def test_receipts_task_sent_through_the_outbox_marks_its_job_done(team_submission):
    job = Job.objects.create(task_name=send_submission_receipts_task.name, kwargs={"submission_id": team_submission.pk})

    send_submission_receipts_task.apply(kwargs={"submission_id": team_submission.pk, "job_id": job.pk})

    job.refresh_from_db()
    assert (job.status, len(mail.outbox)) == (Job.Status.DONE, 3)


def test_receipts_task_returns_quietly_when_the_submission_is_gone(db):
    assert send_submission_receipts_task(submission_id=987654321) == 0


@pytest.mark.worker
def test_worker_sends_the_receipts_through_the_broker(celery_worker, settings):
    settings.SITE_URL = "https://ptce.example.gouv.fr"
    submission = create_submission()

    send_submission_receipts_task.delay(submission_id=submission.pk)

    deadline = time.monotonic() + 60
    while submission.receipts_sent_at is None and time.monotonic() < deadline:
        time.sleep(0.25)
        submission.refresh_from_db()
    assert submission.receipts_sent_at is not None
    assert [message.to for message in mail.outbox] == [[submission.dossier.consortium.created_by.email]]
