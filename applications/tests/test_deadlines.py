import datetime as dt

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.roles import Role
from accounts.tests.factories import UserFactory
from applications import deadlines, services
from applications.models import Call, Dossier, DossierEvent, Membership, Reminder
from applications.tests.factories import CallFactory, DossierFactory, add_member, complete_dossier
from conftest import sign_in
from jobs.tests.outbox import run_pending_jobs

UTC = dt.UTC
CLOSES = dt.datetime(2013, 10, 30, 23, 0, tzinfo=UTC)  # 31 Oct 2013 00:00 in Paris


@pytest.fixture
def call(db):
    return CallFactory(opens_at=CLOSES - dt.timedelta(days=100), closes_at=CLOSES)


def close_counting_queries(drafts: int) -> int:
    call = CallFactory(opens_at=CLOSES - dt.timedelta(days=100), closes_at=CLOSES)
    for _ in range(drafts):
        DossierFactory(call=call)
    with CaptureQueriesContext(connection) as queries:
        closed = deadlines.close_due_calls(at=CLOSES + dt.timedelta(minutes=1))
    assert closed == [call.pk]
    return len(queries)


def test_closing_expires_drafts_set_based_with_one_trace_each(db):
    few, many = close_counting_queries(1), close_counting_queries(25)

    assert few == many <= 15
    assert set(Dossier.objects.values_list("status", flat=True)) == {Dossier.Status.EXPIRED}
    assert DossierEvent.objects.filter(to_status=Dossier.Status.EXPIRED).count() == 26


def test_closing_twice_or_hours_late_gives_the_same_result_and_one_summary(call, program_staff):
    DossierFactory(call=call)
    first = deadlines.close_due_calls(at=CLOSES + dt.timedelta(hours=5))
    second = deadlines.close_due_calls(at=CLOSES + dt.timedelta(hours=6))
    run_pending_jobs()
    run_pending_jobs()

    call.refresh_from_db()
    assert (first, second) == ([call.pk], [])
    assert call.closed_at == CLOSES + dt.timedelta(hours=5)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [program_staff.email]
    assert "brouillons non déposés (expirés) : 1" in mail.outbox[0].body


def test_closing_before_the_deadline_does_nothing(call):
    DossierFactory(call=call)

    assert deadlines.close_due_calls(at=CLOSES - dt.timedelta(seconds=1)) == []
    assert Dossier.objects.get().status == Dossier.Status.DRAFT


def test_closing_keeps_drafts_with_their_own_later_deadline_until_it_passes(call, program_staff, monkeypatch):
    extended = DossierFactory(call=call)
    monkeypatch.setattr("applications.clock.now", lambda: CLOSES - dt.timedelta(hours=1))
    services.grant_deadline(extended, until=CLOSES + dt.timedelta(days=1), reason="Panne", by=program_staff)

    deadlines.close_due_calls(at=CLOSES + dt.timedelta(minutes=1))
    extended.refresh_from_db()
    assert extended.status == Dossier.Status.DRAFT

    deadlines.close_due_calls(at=CLOSES + dt.timedelta(days=1, minutes=1))
    extended.refresh_from_db()
    assert extended.status == Dossier.Status.EXPIRED


def test_closing_leaves_submitted_and_withdrawn_dossiers_alone(db, settings, tmp_path, monkeypatch):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}},
    }
    call = CallFactory(opens_at=CLOSES - dt.timedelta(days=100), closes_at=CLOSES)
    submitted = complete_dossier(call)
    monkeypatch.setattr("applications.clock.now", lambda: CLOSES - dt.timedelta(hours=1))
    services.submit_dossier(submitted, by=submitted.consortium.created_by)

    deadlines.close_due_calls(at=CLOSES + dt.timedelta(minutes=1))

    submitted.refresh_from_db()
    assert submitted.status == Dossier.Status.SUBMITTED


def test_closed_draft_is_read_only_and_says_why(client, call):
    dossier = DossierFactory(call=call)
    deadlines.close_due_calls(at=CLOSES + dt.timedelta(minutes=1))
    sign_in(client, dossier.consortium.created_by)

    page = client.get(dossier.get_absolute_url()).content.decode()

    assert "n&#x27;a pas été déposé avant la date limite" in page


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (CLOSES - dt.timedelta(days=7), ["d7"]),
        (CLOSES - dt.timedelta(days=6, hours=1), ["d7"]),  # within the 24 h window
        (CLOSES - dt.timedelta(days=5), []),  # D-7 window passed: skipped, not sent late
        (CLOSES - dt.timedelta(hours=20), ["d1"]),
        (CLOSES - dt.timedelta(hours=2, minutes=30), ["h3"]),
        (CLOSES - dt.timedelta(hours=1), []),
    ],
)
def test_reminder_is_due_only_within_its_window(call, moment, expected):
    DossierFactory(call=call)

    deadlines.send_due_reminders(at=moment)

    assert list(Reminder.objects.values_list("kind", flat=True)) == expected


def test_each_reminder_goes_once_per_dossier_even_when_beat_runs_twice(call):
    dossier = DossierFactory(call=call)
    add_member(dossier.consortium, Membership.Role.EDITOR)

    for minutes in (0, 1, 1, 30):
        deadlines.send_due_reminders(at=CLOSES - dt.timedelta(hours=3) + dt.timedelta(minutes=minutes))
        run_pending_jobs()

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert sorted(message.to) == sorted(dossier.consortium.memberships.values_list("user__email", flat=True))
    assert "dans 3 heures" in message.subject
    assert "mercredi 30 octobre 2013 à minuit (heure de Paris)" in message.body
    assert "Rubrique « Présentation du projet » incomplète" in message.body


def test_submitted_dossiers_get_no_reminder(call):
    dossier = DossierFactory(call=call, status=Dossier.Status.SUBMITTED)

    deadlines.send_due_reminders(at=CLOSES - dt.timedelta(days=1))

    assert not Reminder.objects.filter(dossier=dossier).exists()


def test_closing_summary_counts(call, db):
    UserFactory(role=Role.PROGRAM_STAFF)
    DossierFactory(call=call)
    DossierFactory(call=call, status=Dossier.Status.WITHDRAWN)
    deadlines.close_due_calls(at=CLOSES)
    run_pending_jobs()

    assert Call.objects.get(pk=call.pk).closing_summary_sent_at is not None
    body = mail.outbox[0].body
    assert "dossiers déposés : 0" in body
    assert "dossiers retirés par leur équipe : 1" in body
