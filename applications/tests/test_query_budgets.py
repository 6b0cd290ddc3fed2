"""Query budgets of the applicant pages and of the applications tasks (issue 8).

Each page or task runs the same number of queries with 1 and with 50 related rows (organisations
and team members of the pole, attachments, submitted versions, thread messages, dossiers of the
user), under the ceiling: applicant pages 15, tasks 20. See ptce_portal/tests/querybudget.py.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.core import mail
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from accounts.tests.factories import UserFactory
from applications import deadlines, documents
from applications.models import (
    Attachment,
    AttachmentType,
    Consortium,
    Dossier,
    DossierEvent,
    DossierSection,
    Invitation,
    Membership,
    Organisation,
    OrganisationKind,
    Reminder,
    Submission,
)
from applications.sections import SECTION_FORMS
from applications.tests.factories import (
    PDF_BYTES,
    SECTION_DATA,
    CallFactory,
    ConsortiumFactory,
    DossierFactory,
    budget_data,
    make_siret,
)
from conftest import sign_in
from ptce_portal.tests.querybudget import APPLICANT_PAGE, TASK, assert_query_budget, expect_status
from reviews.models import Criterion, Message

SECTION_KEYS = [form.key for form in SECTION_FORMS]
# The submission POST does not fit the applicant ceiling of 15: besides the request's own reads
# (session, user, dossier, membership) it locks the dossier, takes the database clock, reads the
# parts of the snapshot (sections, organisations, team, attachments, attachment types, plus the
# antivirus check), numbers the dossier, then writes the version, the dossier (and its history
# row), its event, each with its audit link, and the two jobs, in a savepoint, and stamps the jobs
# sent after commit: 24. Its own budget, reported to the lead (issue 8); any N+1 still fails.
SUBMISSION = 25


def _users(count: int, prefix: str) -> list[User]:
    stamp = User.objects.count()
    return User.objects.bulk_create(
        [User(email=f"{prefix}{stamp}-{n}@exemple.fr", first_name="Dominique", last_name=f"N{n}") for n in range(count)]
    )


def pole_dossier(size: int, *, call=None, submissions: int | None = None) -> Dossier:
    """A draft-or-submitted dossier, editable now, whose pole has `size` organisations (the first
    the ESS lead, the second a company), `size` team members (the owner included), `size` live
    attachments (the call's required ones first), `submissions` submitted versions (default
    `size`) and `size` thread messages; every section filled in and valid."""
    call = call or CallFactory()
    consortium = ConsortiumFactory()
    owner = consortium.created_by
    stamp = Organisation.objects.count()
    Organisation.objects.bulk_create(
        [
            Organisation(
                consortium=consortium,
                name=f"Structure {n}",
                siret=make_siret(stamp + n + 1),
                legal_form="SARL" if n % 2 else "Association loi 1901",
                kind=OrganisationKind.COMMERCIAL if n % 2 else OrganisationKind.ESS_ASSOCIATION,
                commune="Saint-Denis",
                is_lead=n == 0,
            )
            for n in range(size)
        ]
    )
    Membership.objects.bulk_create(
        [
            Membership(consortium=consortium, user=user, role=Membership.Role.EDITOR)
            for user in _users(size - 1, "membre")
        ]
    )
    dossier = DossierFactory(call=call, consortium=consortium)
    DossierSection.objects.bulk_create(
        [
            DossierSection(dossier=dossier, key=key, data=data, version=1, updated_by=owner)
            for key, data in {**SECTION_DATA, "budget": budget_data(call.funding_years)}.items()
        ]
    )
    types = list(call.attachment_types.all())
    Attachment.objects.bulk_create(
        [
            Attachment(
                dossier=dossier,
                type=types[n] if n < len(types) else None,
                file=f"dossiers/{dossier.pk}/{n}",
                original_name=f"piece-{n}.pdf",
                content_type="application/pdf",
                size=len(PDF_BYTES),
                sha256=hashlib.sha256(PDF_BYTES).hexdigest(),
                uploaded_by=owner,
            )
            for n in range(size)
        ]
    )
    count = size if submissions is None else submissions
    if count:
        dossier.number = 1
        dossier.reference = f"{call.reference_prefix}-0001"
        made = Submission.objects.bulk_create(
            [
                Submission(
                    dossier=dossier,
                    version=version,
                    reference=f"{dossier.reference}-V{version}",
                    submitted_at=timezone.now() - dt.timedelta(days=1),
                    submitted_by=owner,
                    content={"schema": 1, "version": version},
                    content_sha256=f"{version:064d}",
                )
                for version in range(1, count + 1)
            ]
        )
        dossier.current_submission = made[-1]
        dossier.status = Dossier.Status.SUBMITTED
        dossier.save()
        Message.objects.bulk_create(
            [Message(dossier=dossier, author=owner, from_staff=n % 2 == 0, body=f"Question {n}") for n in range(size)]
        )
    return dossier


def signed_in_owner(client, dossier: Dossier) -> User:
    owner = dossier.consortium.created_by
    sign_in(client, owner)
    return owner


def owned_poles(user, count: int) -> list[Consortium]:
    """`count` poles created and owned by `user`, in two queries."""
    consortia = Consortium.objects.bulk_create(
        [
            Consortium(
                name=f"Pôle {n}", communes="X", departement="93", region="IDF", maturity="mature", created_by=user
            )
            for n in range(count)
        ]
    )
    Membership.objects.bulk_create([Membership(consortium=c, user=user, role="owner") for c in consortia])
    return consortia


# --- Dashboard ---


def test_dashboard(client, db):
    call = CallFactory()

    def prepare(size):
        user = UserFactory(role=Role.APPLICANT)
        consortia = owned_poles(user, size)
        dossiers = Dossier.objects.bulk_create([Dossier(call=call, consortium=c) for c in consortia])
        submissions = Submission.objects.bulk_create(
            [
                Submission(
                    dossier=d,
                    version=1,
                    reference=f"DASH-{d.pk}",
                    submitted_at=timezone.now(),
                    submitted_by=user,
                    content={},
                    content_sha256="0" * 64,
                )
                for d in dossiers[::2]
            ]
        )
        for dossier, submission in zip(dossiers[::2], submissions, strict=True):
            dossier.current_submission = submission
            dossier.status = Dossier.Status.SUBMITTED
        Dossier.objects.bulk_update(dossiers, ["current_submission", "status"])
        sign_in(client, user)
        return lambda: expect_status(client.get(reverse("applications:dashboard")), 200)

    assert_query_budget(prepare, ceiling=APPLICANT_PAGE, label="dashboard")


# --- The pole: its page, its team, a call's page ---


def test_consortium_page(client, db):
    """Organisations and team of the pole, and the open calls it may apply to (one of them with
    its dossier): each call's composition check reads the organisations already loaded."""

    def prepare(size):
        call = CallFactory()
        dossier = pole_dossier(size, call=call, submissions=0)
        for _ in range(size - 1):
            CallFactory(attachment_types=False)
        signed_in_owner(client, dossier)
        url = reverse("applications:consortium-detail", args=[dossier.consortium_id])
        return lambda: expect_status(client.get(url), 200)

    assert_query_budget(prepare, ceiling=APPLICANT_PAGE, label="consortium page")


def test_team_page(client, db):
    def prepare(size):
        dossier = pole_dossier(size, submissions=0)
        consortium, owner = dossier.consortium, dossier.consortium.created_by
        Invitation.objects.bulk_create(
            [
                Invitation(
                    consortium=consortium,
                    email=f"invite{n}@exemple.fr",
                    role=Membership.Role.EDITOR,
                    token=f"{consortium.pk}-{n}",
                    invited_by=owner,
                    expires_at=timezone.now() + dt.timedelta(days=7),
                )
                for n in range(size)
            ]
        )
        signed_in_owner(client, dossier)
        return lambda: expect_status(client.get(reverse("applications:team", args=[consortium.pk])), 200)

    assert_query_budget(prepare, ceiling=APPLICANT_PAGE, label="team page")


def test_call_page(client, db):
    """A call's page lists the user's poles, each with its dossiers."""
    call = CallFactory()

    def prepare(size):
        user = UserFactory(role=Role.APPLICANT)
        consortia = owned_poles(user, size)
        Dossier.objects.bulk_create([Dossier(call=call, consortium=c) for c in consortia])
        sign_in(client, user)
        return lambda: expect_status(client.get(call.get_absolute_url()), 200)

    assert_query_budget(prepare, ceiling=APPLICANT_PAGE, label="call page")


# --- Dossier overview, sections, attachments, receipt ---


def test_dossier_overview(client, db):
    def prepare(size):
        dossier = pole_dossier(size)
        signed_in_owner(client, dossier)

        def overview():
            response = expect_status(client.get(dossier.get_absolute_url()), 200)
            # The sections were saved after the last version: said from the sections already read.
            assert "Des modifications ont été faites depuis le dernier dépôt" in response.content.decode()
            return response

        return overview

    assert_query_budget(prepare, ceiling=APPLICANT_PAGE, label="overview")


@pytest.mark.parametrize("key", SECTION_KEYS)
def test_section_page(client, db, key):
    def prepare(size):
        dossier = pole_dossier(size)
        signed_in_owner(client, dossier)
        url = reverse("applications:dossier-section", args=[dossier.pk, key])
        return lambda: expect_status(client.get(url), 200)

    assert_query_budget(prepare, ceiling=APPLICANT_PAGE, label=f"section {key}")


def _posted(dossier: Dossier, key: str) -> dict:
    data = {**SECTION_DATA, "budget": budget_data(dossier.call.funding_years)}[key]
    return {**data, "_version": "1"}


@pytest.mark.parametrize("key", SECTION_KEYS)
def test_section_save(client, db, key):
    def prepare(size):
        dossier = pole_dossier(size)
        signed_in_owner(client, dossier)
        url = reverse("applications:dossier-section", args=[dossier.pk, key])
        # Saved, complete: the page is shown again with its confirmation.
        return lambda: expect_status(client.post(url, _posted(dossier, key)), 200)

    assert_query_budget(prepare, ceiling=APPLICANT_PAGE, label=f"save {key}")


@pytest.mark.parametrize("key", SECTION_KEYS)
def test_section_autosave(client, db, key):
    def prepare(size):
        dossier = pole_dossier(size)
        signed_in_owner(client, dossier)
        url = reverse("applications:dossier-section", args=[dossier.pk, key])
        return lambda: expect_status(client.post(url, _posted(dossier, key), headers={"X-Autosave": "1"}), 200)

    assert_query_budget(prepare, ceiling=APPLICANT_PAGE, label=f"autosave {key}")


def test_attachment_list(client, db):
    def prepare(size):
        dossier = pole_dossier(size)
        signed_in_owner(client, dossier)
        url = reverse("applications:attachment-list", args=[dossier.pk])
        return lambda: expect_status(client.get(url), 200)

    assert_query_budget(prepare, ceiling=APPLICANT_PAGE, label="attachments")


def test_attachment_upload(client, db, media):
    """A required piece replaced (the live one marked removed) among `size` live attachments."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from applications.tests.test_uploads import pdf_bytes

    dossiers = []

    def prepare(size):
        dossier = pole_dossier(size)
        dossiers.append(dossier)
        signed_in_owner(client, dossier)
        url = reverse("applications:attachment-list", args=[dossier.pk])
        statuts = dossier.call.attachment_types.get(code="statuts")
        data = {"attachment_type": statuts.pk, "file": SimpleUploadedFile("statuts.pdf", pdf_bytes())}
        return lambda: expect_status(client.post(url, data), 302)

    assert_query_budget(prepare, ceiling=APPLICANT_PAGE, label="attachment upload")
    for dossier in dossiers:  # stored, the former one marked removed
        assert Attachment.objects.filter(dossier=dossier, original_name="statuts.pdf", removed_at=None).exists()
        assert Attachment.objects.filter(dossier=dossier, original_name="piece-0.pdf").get().removed_at is not None


def test_attachment_removal(client, db):
    def prepare(size):
        dossier = pole_dossier(size)
        signed_in_owner(client, dossier)
        attachment = Attachment.objects.filter(dossier=dossier).last()
        url = reverse("applications:attachment-remove", args=[dossier.pk, attachment.uuid])
        return lambda: expect_status(client.post(url), 302)

    assert_query_budget(prepare, ceiling=APPLICANT_PAGE, label="attachment removal")


def test_submission_receipt(client, db):
    def prepare(size):
        dossier = pole_dossier(size)
        signed_in_owner(client, dossier)
        url = reverse("applications:submission-detail", args=[dossier.pk, size])
        return lambda: expect_status(client.get(url), 200)

    assert_query_budget(prepare, ceiling=APPLICANT_PAGE, label="receipt")


@pytest.mark.parametrize("resubmission", [False, True], ids=["first", "again"])
def test_submission(client, db, monkeypatch, django_capture_on_commit_callbacks, resubmission):
    """The first submission (a draft gets its number) and a new version of a submitted dossier.
    A complete pole needs its ESS lead and a company, and both required attachments: 2 rows at
    least. The PDF and receipt jobs are sent after commit, within the request: counted too."""
    sent = []
    monkeypatch.setattr("jobs.services.app.send_task", lambda name, kwargs, **options: sent.append(name))

    def prepare(size):
        dossier = pole_dossier(size, submissions=size if resubmission else 0)
        signed_in_owner(client, dossier)
        url = reverse("applications:dossier-submit", args=[dossier.pk])
        target = reverse("applications:submission-detail", args=[dossier.pk, (size if resubmission else 0) + 1])

        def submit():
            sent.clear()
            with django_capture_on_commit_callbacks(execute=True):
                response = expect_status(client.post(url), 302)
            assert response.url == target, response.url
            assert sorted(sent) == [
                "applications.tasks.render_submission_pdf_task",
                "applications.tasks.send_submission_receipts_task",
            ]
            return response

        return submit

    assert_query_budget(
        prepare, sizes=(2, 50), ceiling=SUBMISSION, label=f"submission {'again' if resubmission else 'first'}"
    )


# --- Tasks ---


def test_reminders_task(db, monkeypatch, django_capture_on_commit_callbacks):
    closes = timezone.now() + dt.timedelta(days=6, hours=23)
    sent = []
    monkeypatch.setattr("jobs.services.app.send_task", lambda name, kwargs, **options: sent.append(kwargs))

    def prepare(size):
        call = CallFactory(closes_at=closes)
        owner = ConsortiumFactory().created_by
        consortia = Consortium.objects.bulk_create(
            [
                Consortium(
                    name=f"Pôle {n}", communes="X", departement="93", region="IDF", maturity="mature", created_by=owner
                )
                for n in range(size)
            ]
        )
        Dossier.objects.bulk_create([Dossier(call=call, consortium=c) for c in consortia])

        def run():
            sent.clear()
            # The jobs are sent to the broker after commit: that part of the task is counted too.
            with django_capture_on_commit_callbacks(execute=True):
                assert deadlines.send_due_reminders() == size
            assert len(sent) == size

        return run

    assert_query_budget(prepare, ceiling=TASK, label="send_due_reminders")


def test_reminder_email_task(db):
    def prepare(size):
        dossier = pole_dossier(size, submissions=0)
        Reminder.objects.create(dossier=dossier, kind="d7", recorded_at=timezone.now())

        def run():
            mail.outbox = []
            assert deadlines.send_reminder(dossier.pk, "d7") == size
            assert len(mail.outbox) == 1

        return run

    assert_query_budget(prepare, ceiling=TASK, label="send_reminder")


def test_pdf_render_task(db, media):
    def prepare(size):
        dossier = pole_dossier(size, submissions=0)
        submission = Submission.objects.create(
            dossier=dossier,
            version=1,
            reference=f"PDF-{dossier.pk}",
            submitted_at=timezone.now(),
            submitted_by=dossier.consortium.created_by,
            content=build_snapshot(dossier),
            content_sha256="0" * 64,
        )
        return lambda: documents.render_submission_pdf(submission.pk)

    assert_query_budget(prepare, sizes=(1, 50), ceiling=TASK, label="render_submission_pdf")


def build_snapshot(dossier: Dossier) -> dict:
    from applications.services import build_snapshot as snapshot

    return snapshot(Dossier.objects.select_related("call", "consortium").get(pk=dossier.pk))


def test_receipts_task(db):
    def prepare(size):
        dossier = pole_dossier(size, submissions=1)

        def run():
            mail.outbox = []
            assert documents.send_submission_receipts(dossier.current_submission_id) == size

        return run

    assert_query_budget(prepare, ceiling=TASK, label="send_submission_receipts")


def test_closing_summary_task(db, program_staff):
    def prepare(size):
        call = CallFactory(closes_at=timezone.now() - dt.timedelta(minutes=1))
        owner = ConsortiumFactory().created_by
        consortia = Consortium.objects.bulk_create(
            [
                Consortium(
                    name=f"Pôle {n}", communes="X", departement="93", region="IDF", maturity="mature", created_by=owner
                )
                for n in range(size)
            ]
        )
        Dossier.objects.bulk_create([Dossier(call=call, consortium=c, status="expired") for c in consortia])
        call.closed_at = timezone.now()
        call.save()
        return lambda: deadlines.send_closing_summary(call.pk)

    assert_query_budget(prepare, ceiling=TASK, label="send_closing_summary")


@pytest.mark.parametrize(
    ("model", "parent"),
    [
        (AttachmentType, "call"),
        (Attachment, "dossier"),
        (Submission, "dossier"),
        (DossierEvent, "dossier"),
        (Criterion, "call"),
        (Message, "dossier"),
    ],
)
def test_one_parents_rows_are_read_without_joining_the_parent(model, parent):
    """Their default ordering goes by the parent's id: ordering by the relation itself would join the
    parent (and the call behind a dossier) into every read of one dossier's or one call's rows."""
    sql = str(model.objects.filter(**{f"{parent}_id": 1}).query)

    joined = model._meta.get_field(parent).related_model._meta.db_table
    assert f'JOIN "{joined}"' not in sql
    assert 'JOIN "applications_call"' not in sql


def test_a_page_asked_again_reuses_its_prepared_statements(client, db):
    """The server keeps the plan of a statement the connection ran before (psycopg 3, parameters
    bound by the server): the dossier read, a five-table join, is planned once, not per request."""
    dossier = pole_dossier(1)
    signed_in_owner(client, dossier)

    def prepared_dossier_reads() -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_prepared_statements WHERE NOT from_sql AND statement LIKE %s",
                ['%FROM "applications_dossier" INNER JOIN "applications_consortium"%'],
            )
            return cursor.fetchone()[0]

    before = prepared_dossier_reads()
    for _ in range(3):
        expect_status(client.get(dossier.get_absolute_url()), 200)

    assert prepared_dossier_reads() == before + 1
