import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.roles import Role
from accounts.tests.factories import UserFactory
from applications.models import Membership
from applications.tests.factories import add_member
from awards.tests.factories import submitted_with_request
from conftest import sign_in
from jobs.tests.outbox import run_pending_jobs
from reviews import services
from reviews.models import Message


@pytest.fixture
def dossier(db, media):
    return submitted_with_request()


def test_staff_question_reaches_the_team_and_the_answer_reaches_staff(client, dossier, program_staff):
    submission_hash = dossier.current_submission.content_sha256
    sign_in(client, program_staff)
    client.post(reverse("reviews:staff-thread", args=[dossier.pk]), {"body": "Pouvez-vous préciser le budget 2015 ?"})
    run_pending_jobs()
    assert mail.outbox[-1].to == [dossier.consortium.created_by.email]

    owner = dossier.consortium.created_by
    sign_in(client, owner)
    page = client.get(dossier.get_absolute_url()).content.decode()
    assert "1 non lu" in page
    pdf = SimpleUploadedFile("precisions.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf")
    client.post(reverse("reviews:team-thread", args=[dossier.pk]), {"body": "Voici le détail.", "attachment": pdf})
    run_pending_jobs()

    assert mail.outbox[-1].to == [program_staff.email]
    answer = Message.objects.get(from_staff=False)
    assert (answer.attachment_name, answer.body) == ("precisions.pdf", "Voici le détail.")
    assert "non lu" not in client.get(dossier.get_absolute_url()).content.decode()
    dossier.current_submission.refresh_from_db()
    assert dossier.current_submission.content_sha256 == submission_hash
    download = client.get(reverse("reviews:message-attachment", args=[dossier.pk, answer.pk]))
    assert download["Content-Disposition"].startswith("attachment")
    assert b"".join(download.streaming_content) == b"%PDF-1.4\n%%EOF\n"
    download.close()


def test_thread_is_closed_to_other_users_and_readers_cannot_post(client, dossier, program_staff):
    question = Message.objects.create(dossier=dossier, author=program_staff, from_staff=True, body="Question")
    reader = add_member(dossier.consortium, Membership.Role.READER).user
    stranger = UserFactory(role=Role.APPLICANT)

    sign_in(client, stranger)
    assert client.get(reverse("reviews:team-thread", args=[dossier.pk])).status_code == 404
    assert client.get(reverse("reviews:staff-thread", args=[dossier.pk])).status_code == 403
    sign_in(client, reader)
    assert client.get(reverse("reviews:team-thread", args=[dossier.pk])).status_code == 200
    assert client.post(reverse("reviews:team-thread", args=[dossier.pk]), {"body": "x"}).status_code == 403
    assert list(Message.objects.all()) == [question]


def test_disguised_file_in_an_answer_is_refused_next_to_the_field(client, dossier):
    sign_in(client, dossier.consortium.created_by)
    fake = SimpleUploadedFile("budget.pdf", b"MZ\x90\x00 program", content_type="application/pdf")

    response = client.post(reverse("reviews:team-thread", args=[dossier.pk]), {"body": "Ci-joint", "attachment": fake})

    html = response.content.decode()
    assert "programme exécutable" in html
    assert "Ci-joint" in html
    assert Message.objects.count() == 0


def test_assigned_reviewer_reads_the_thread_in_the_admin(client, dossier, program_staff):
    from reviews.tests.factories import ReviewerFactory

    Message.objects.create(dossier=dossier, author=program_staff, from_staff=True, body="Question sur les emplois")
    reviewer = ReviewerFactory()
    assignment = services.assign_reviewer(dossier, reviewer=reviewer, by=program_staff)
    services.confirm_no_conflict(assignment, by=reviewer)
    sign_in(client, reviewer)

    page = client.get(reverse("admin:reviews_assignment_evaluate", args=[assignment.pk])).content.decode()

    assert "Question sur les emplois" in page
