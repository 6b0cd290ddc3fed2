"""Background work survives faults (PRODUCT.md rules 1, 2 and 8), against real processes: a
private redis-server, Celery workers and beat as subprocesses (see conftest.py).

Each test breaks one thing (a worker killed mid-task, Redis stopped or emptied, two closers at
once, no worker at the deadline, a task that keeps failing) and checks that every effect happens
exactly once and correctly: one PDF whose hash matches its bytes, one receipt per team member,
one closing, one summary, one reminder of each kind.
"""

import datetime as dt
import hashlib
import signal
import sys
import time
from collections import Counter

import pytest
from celery.beat import PersistentScheduler
from django import forms
from django.conf import settings
from django.contrib.messages import get_messages
from django.core import mail
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from accounts.tests.factories import UserFactory
from applications import clock, deadlines, services
from applications.models import Call, Dossier, DossierEvent, Membership, Reminder, Submission
from applications.sections import SECTION_FORMS
from applications.tests.factories import CallFactory, DossierFactory, OrganisationFactory, add_member, complete_dossier
from applications.tests.pdfs import pdf_text
from applications.tests.snapshots import create_submission
from conftest import sign_in
from jobs.models import Heartbeat, Job
from jobs.services import enqueue, sweep_outbox
from ptce_portal.celery import app as celery_app

from .conftest import BASE_DIR, sent_messages, wait_for

pytestmark = pytest.mark.fault

RENDER = "applications.tasks.render_submission_pdf_task"
RECEIPTS = "applications.tasks.send_submission_receipts_task"
SUMMARY = "applications.tasks.send_closing_summary_task"
LONG_TEXT = "Mutualisation de locaux, de services et de compétences entre les structures du pôle. " * 80


# --- Helpers ---


def big_dossier(call: Call) -> Dossier:
    """A submittable dossier with an editor besides its owner, every long text at its maximum
    length and forty organisations: its PDF takes well over a second to render."""
    dossier = complete_dossier(call)
    add_member(dossier.consortium, Membership.Role.EDITOR)
    for form_class in SECTION_FORMS:
        long_fields = {
            name: LONG_TEXT[: field.max_length]
            for name, field in form_class.base_fields.items()
            if isinstance(field, forms.CharField) and (field.max_length or 0) >= 2000
        }
        if long_fields:
            section = dossier.sections.get(key=form_class.key)
            section.data = {**section.data, **long_fields}
            section.save(update_fields=["data"])
    for _ in range(40):
        OrganisationFactory(consortium=dossier.consortium)
    return dossier


def team_dossier(call: Call) -> Dossier:
    dossier = complete_dossier(call)
    add_member(dossier.consortium, Membership.Role.EDITOR)
    return dossier


def submit_through_view(client, dossier: Dossier):
    sign_in(client, dossier.consortium.created_by)
    return client.post(reverse("applications:dossier-submit", args=[dossier.pk]))


def later() -> dt.datetime:
    """What the sweep sees once OUTBOX_REDISPATCH_AFTER has passed since the last dispatch."""
    return timezone.now() + dt.timedelta(seconds=settings.OUTBOX_REDISPATCH_AFTER + 1)


def wait_until_jobs_finished(timeout: float = 60) -> None:
    wait_for(lambda: not Job.objects.pending().exists(), timeout=timeout, what="every outbox job to finish")
    assert list(Job.objects.filter(status=Job.Status.FAILED).values_list("task_name", "last_error")) == []


def assert_pdf_stored_once(submission: Submission, media) -> None:
    """One file for the version, the one the row names, whose hash the row records."""
    submission.refresh_from_db()
    folder = media / "submissions" / str(submission.dossier_id)
    stored = sorted(path.relative_to(media).as_posix() for path in folder.iterdir())
    assert stored == [f"submissions/{submission.dossier_id}/{submission.reference}.pdf"]
    assert submission.pdf.name == stored[0]
    data = (media / stored[0]).read_bytes()
    assert submission.pdf_sha256 == hashlib.sha256(data).hexdigest()
    assert submission.reference in pdf_text(data)


def team_emails(dossier: Dossier) -> list[str]:
    return sorted(dossier.consortium.memberships.values_list("user__email", flat=True))


def receipt_recipients(mail_dir, submission: Submission) -> list[str]:
    subject = f"Accusé de réception — dossier {submission.reference}"
    return sorted(str(message["To"]) for message in sent_messages(mail_dir) if message["Subject"].strip() == subject)


def summary_recipients(mail_dir, call: Call) -> list[str]:
    subject = f"[Portail PTCE] Clôture de l'appel « {call.title} »"
    return sorted(str(message["To"]) for message in sent_messages(mail_dir) if message["Subject"].strip() == subject)


def backends_waiting_for_a_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")  # pg_stat_activity is frozen per transaction otherwise
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def beat_last_ran_at(schedule_file, moment: dt.datetime) -> None:
    """Leave beat's schedule file as beat itself leaves it, its entries last run at `moment`:
    a beat that was down since then runs every entry as soon as it is back."""
    scheduler = PersistentScheduler(app=celery_app, schedule_filename=str(schedule_file))
    try:
        for entry in scheduler.schedule.values():
            entry.last_run_at = moment
        scheduler.sync()
    finally:
        scheduler.close()


# --- 1. A worker killed while rendering ---


@pytest.mark.parametrize("crash", ["pool-child", "whole-worker"])
def test_worker_killed_while_rendering_still_stores_one_correct_pdf(crash, worker_process, shared_media, mail_dir):
    dossier = big_dossier(CallFactory())
    worker = worker_process()
    submission = services.submit_dossier(dossier, by=dossier.consortium.created_by)
    render = Job.objects.get(key=f"pdf:{submission.pk}")

    wait_for(
        lambda: any(task["name"] == RENDER for task in worker.active_tasks()),
        timeout=30,
        what="the worker to start rendering",
        interval=0.05,
    )
    time.sleep(0.3)  # into the rendering, which takes over a second for this dossier
    if crash == "pool-child":  # the OOM killer takes the process running the task
        worker.kill_pool_children(signal.SIGKILL)
    else:  # the machine goes down with the whole worker
        worker.kill(signal.SIGKILL)
    submission.refresh_from_db()
    assert submission.pdf_rendered_at is None, "the worker was killed after the PDF was stored: nothing was tested"

    if crash == "whole-worker":
        # The message stays unacknowledged in Redis until its visibility timeout (an hour):
        # the outbox sweep sends the job again to a new worker.
        worker_process()
        assert sweep_outbox(now=later()) >= 1
    wait_until_jobs_finished()

    render.refresh_from_db()
    # After the pool child's death the worker itself put the message back (acks_late and
    # reject_on_worker_lost); after the whole worker's death, the sweep sent it a second time.
    assert render.dispatch_count == (1 if crash == "pool-child" else 2)
    assert render.status == Job.Status.DONE
    assert_pdf_stored_once(submission, shared_media)
    assert receipt_recipients(mail_dir, submission) == team_emails(dossier)
    assert sweep_outbox(now=later()) == 0


# --- 2 and 3. Redis stopped, Redis emptied ---


def test_submission_is_accepted_while_redis_is_down_and_its_work_is_done_once_redis_is_back(
    client, private_broker, worker_process, shared_media, mail_dir
):
    dossier = team_dossier(CallFactory())
    private_broker.stop()

    started = time.monotonic()
    response = submit_through_view(client, dossier)
    elapsed = time.monotonic() - started

    submission = Submission.objects.get(dossier=dossier)
    assert response.status_code == 302
    assert response["Location"] == reverse("applications:submission-detail", args=[dossier.pk, 1])
    assert elapsed < 10, f"the submission took {elapsed:.1f} s with Redis down"
    jobs = Job.objects.order_by("pk")
    assert [(job.task_name, job.status, job.dispatched_at) for job in jobs] == [
        (RENDER, Job.Status.PENDING, None),
        (RECEIPTS, Job.Status.PENDING, None),
    ]
    assert all(job.last_error.startswith("Envoi impossible") for job in jobs)

    private_broker.start()
    worker_process()
    assert sweep_outbox() == 2  # never sent: due at once
    wait_until_jobs_finished()

    assert_pdf_stored_once(submission, shared_media)
    assert receipt_recipients(mail_dir, submission) == team_emails(dossier)
    assert sweep_outbox(now=later()) == 0


def test_work_queued_when_redis_loses_its_data_is_done_once(private_broker, worker_process, shared_media, mail_dir):
    dossier = team_dossier(CallFactory())
    submission = services.submit_dossier(dossier, by=dossier.consortium.created_by)
    assert (private_broker.queue_length("pdf"), private_broker.queue_length("email")) == (1, 1)

    private_broker.flushall()  # restarted without persistence, or evicted under memory pressure
    assert (private_broker.queue_length("pdf"), private_broker.queue_length("email")) == (0, 0)
    worker_process()

    assert sweep_outbox() == 0  # sent a moment ago: left to the broker for OUTBOX_REDISPATCH_AFTER
    assert sweep_outbox(now=later()) == 2
    wait_until_jobs_finished()

    assert_pdf_stored_once(submission, shared_media)
    assert receipt_recipients(mail_dir, submission) == team_emails(dossier)
    assert list(Job.objects.values_list("dispatch_count", flat=True)) == [2, 2]
    assert sweep_outbox(now=later()) == 0


# --- 4. Two closers at once ---

CLOSE = "from applications.deadlines import close_due_calls; print('closed', close_due_calls())"


def test_closing_run_twice_at_once_in_two_processes_closes_once(run_processes, worker_process, mail_dir, program_staff):
    now = timezone.now()
    call = CallFactory(opens_at=now - dt.timedelta(days=60), closes_at=now - dt.timedelta(minutes=1))
    drafts = [DossierFactory(call=call) for _ in range(3)]

    with transaction.atomic():
        # Hold the call's row: both processes reach the closing lock before either can take it.
        Call.objects.select_for_update().get(pk=call.pk)
        closers = [
            run_processes(f"close-{n}", [sys.executable, str(BASE_DIR / "manage.py"), "shell", "-c", CLOSE])
            for n in (1, 2)
        ]
        wait_for(lambda: backends_waiting_for_a_lock() == 2, timeout=60, what="both closers to wait on the call")
    for closer in closers:
        assert closer.popen.wait(timeout=60) == 0, closer.describe()

    outputs = sorted(
        line for closer in closers for line in closer.log.read_text().splitlines() if line.startswith("closed ")
    )
    assert outputs == sorted(["closed []", f"closed [{call.pk}]"])  # one closed it, the other found it closed
    call.refresh_from_db()
    assert call.closed_at is not None
    assert set(Dossier.objects.filter(call=call).values_list("status", flat=True)) == {Dossier.Status.EXPIRED}
    expired_events = DossierEvent.objects.filter(to_status=Dossier.Status.EXPIRED).values_list("dossier_id", flat=True)
    assert Counter(expired_events) == Counter(draft.pk for draft in drafts)
    assert Job.objects.filter(task_name=SUMMARY).count() == 1

    worker_process()
    wait_until_jobs_finished()
    assert summary_recipients(mail_dir, call) == [program_staff.email]
    assert sweep_outbox(now=later()) == 0


# --- 5. The deadline passes while no worker runs ---


def test_deadline_passing_without_worker_refuses_late_submissions_and_closes_when_beat_is_back(
    client, worker_process, beat_process, shared_media, mail_dir, program_staff, tmp_path
):
    call = CallFactory()
    on_time, late = team_dossier(call), team_dossier(call)
    unfinished = DossierFactory(call=call)
    call.closes_at = timezone.now() + dt.timedelta(seconds=3)
    call.save(update_fields=["closes_at"])

    assert submit_through_view(client, on_time).status_code == 302
    wait_for(lambda: clock.now() >= call.closes_at, timeout=10, what="the deadline to pass")
    response = submit_through_view(client, late)

    assert response["Location"] == late.get_absolute_url()
    assert "La date limite de dépôt" in client.get(response["Location"]).content.decode()
    assert list(Submission.objects.values_list("dossier_id", flat=True)) == [on_time.pk]
    call.refresh_from_db()
    assert call.closed_at is None  # nobody has recorded the closing yet: no worker, no beat

    schedule = tmp_path / "celerybeat-schedule"
    beat_last_ran_at(schedule, timezone.now() - dt.timedelta(minutes=10))
    worker_process()
    beat_process(schedule)
    wait_for(
        lambda: (
            Call.objects.filter(pk=call.pk, closed_at__isnull=False).exists()
            and Heartbeat.objects.filter(name="beat").exists()
        ),
        timeout=60,
        what="beat's tasks to close the call and sweep the outbox",
    )
    wait_until_jobs_finished()

    statuses = dict(Dossier.objects.values_list("pk", "status"))
    assert statuses == {
        on_time.pk: Dossier.Status.SUBMITTED,
        late.pk: Dossier.Status.EXPIRED,
        unfinished.pk: Dossier.Status.EXPIRED,
    }
    submission = Submission.objects.get()
    assert_pdf_stored_once(submission, shared_media)
    assert receipt_recipients(mail_dir, submission) == team_emails(on_time)
    assert summary_recipients(mail_dir, call) == [program_staff.email]


# --- 6. Reminders while beat ticks ---


def test_reminders_go_once_each_and_never_late_while_beat_ticks(celery_worker, shared_media, monkeypatch):
    closes = dt.datetime(2013, 10, 30, 23, 0, tzinfo=dt.UTC)
    call = CallFactory(opens_at=closes - dt.timedelta(days=100), closes_at=closes)
    early = DossierFactory(call=call)
    add_member(early.consortium, Membership.Role.EDITOR)
    submitted = complete_dossier(call)
    late_comer = None

    tick = closes - dt.timedelta(days=8)
    while tick < closes:
        monkeypatch.setattr(clock, "now", lambda tick=tick: tick)
        if late_comer is None and tick >= closes - dt.timedelta(days=5):
            late_comer = DossierFactory(call=call)  # started once the D-7 window has passed
        if tick == closes - dt.timedelta(days=3):
            services.submit_dossier(submitted, by=submitted.consortium.created_by)
        for _ in range(2):  # beat ticking twice (two beats by mistake, or catching up)
            deadlines.send_due_reminders(at=tick)
        wait_until_jobs_finished(timeout=30)
        tick += dt.timedelta(minutes=30)

    expected = {
        (early.pk, "d7"),
        (early.pk, "d1"),
        (early.pk, "h3"),
        (submitted.pk, "d7"),
        (late_comer.pk, "d1"),
        (late_comer.pk, "h3"),
    }
    reminders = {(reminder.dossier_id, reminder.kind): reminder for reminder in Reminder.objects.all()}
    assert set(reminders) == expected
    for (_dossier_id, code), reminder in reminders.items():
        assert reminder.recorded_at == closes - deadlines.REMINDERS_BY_CODE[code].before  # its first due tick
        assert reminder.sent_at is not None
    subjects = Counter(message.subject for message in mail.outbox if "Date limite" in message.subject)
    names = {dossier.pk: dossier.consortium.name for dossier in (early, submitted, late_comer)}
    assert subjects == Counter(
        f"[Portail PTCE] Date limite {deadlines.REMINDERS_BY_CODE[code].label} : dossier de {names[pk]} non déposé"
        for pk, code in expected
    )
    reminder_to = [sorted(message.to) for message in mail.outbox if names[early.pk] in message.subject]
    assert reminder_to == [team_emails(early)] * 3


# --- 7. A task that keeps failing, retried from the admin ---


def test_failing_task_is_shown_failed_in_the_admin_and_retried_from_there_once_fixed(
    celery_worker, client, settings, tmp_path, monkeypatch
):
    volume = tmp_path / "volume"
    volume.write_text("the storage volume is not mounted")  # every mkdir under it fails, even as root
    media = volume / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(media)}},
    }
    # Fail at the first error instead of retrying for 45 minutes (the retry policy itself is
    # checked in test_settings_drift.py).
    monkeypatch.setattr(celery_app.tasks[RENDER], "max_retries", 0)
    submission = create_submission()
    job = enqueue(RENDER, key=f"pdf:{submission.pk}", submission_id=submission.pk)

    wait_for(lambda: Job.objects.filter(pk=job.pk, status=Job.Status.FAILED).exists(), timeout=60, what="failure")
    job.refresh_from_db()
    assert job.last_error.startswith("NotADirectoryError: [Errno 20] Not a directory")
    sign_in(client, UserFactory(is_staff=True, is_superuser=True))
    changelist = reverse("admin:jobs_job_changelist")
    page = client.get(changelist).content.decode()
    assert '<td class="field-status">En échec</td>' in page
    assert f'<td class="field-short_error">{escape(job.last_error[:80])}</td>' in page

    volume.unlink()  # the volume is back
    volume.mkdir()
    response = client.post(changelist, {"action": "retry", "_selected_action": [job.pk]})

    assert response.status_code == 302
    assert [str(message) for message in get_messages(response.wsgi_request)] == ["1 travail(aux) relancé(s)."]
    wait_for(lambda: Job.objects.filter(pk=job.pk, status=Job.Status.DONE).exists(), timeout=60, what="the retry")
    job.refresh_from_db()
    assert (job.last_error, job.dispatch_count) == ("", 2)
    assert_pdf_stored_once(submission, media)
