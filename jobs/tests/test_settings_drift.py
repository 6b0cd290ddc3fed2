"""The Celery settings the fault tolerance rests on (PRODUCT.md rule 8), as the app really sees them.

Each assertion names a guarantee: change a value here only with the reason it still holds.
"""

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

import applications.tasks  # noqa: F401 - registers the tasks, as the worker does
import jobs.tasks  # noqa: F401
from ptce_portal.celery import app as celery_app

conf = celery_app.conf
VISIBILITY_TIMEOUT = conf.broker_transport_options["visibility_timeout"]
OUR_TASKS = sorted(name for name in celery_app.tasks if name.startswith(("applications.", "jobs.")))


def seconds(schedule) -> float:
    if isinstance(schedule, int | float):
        return float(schedule)
    if isinstance(schedule, dt.timedelta):
        return schedule.total_seconds()
    return schedule.run_every.total_seconds()  # celery.schedules.schedule


def test_a_task_is_acknowledged_only_once_done_and_redelivered_if_its_worker_dies():
    assert (conf.task_acks_late, conf.task_reject_on_worker_lost) == (True, True)
    assert conf.worker_prefetch_multiplier == 1  # a crash loses at most the running task's slot


def test_time_limits_end_a_task_before_redis_would_deliver_it_again():
    assert 0 < conf.task_soft_time_limit < conf.task_time_limit
    assert conf.task_time_limit < VISIBILITY_TIMEOUT


def test_messages_are_json_and_times_are_paris_time():
    assert (conf.task_serializer, conf.result_serializer, list(conf.accept_content)) == ("json", "json", ["json"])
    assert conf.timezone == "Europe/Paris"


def test_rendering_goes_to_the_pdf_queue_and_sending_to_the_email_queue():
    queues = {name: celery_app.amqp.router.route({}, name)["queue"].name for name in OUR_TASKS}

    assert queues == {
        "applications.tasks.close_due_calls_task": "default",
        "applications.tasks.render_submission_pdf_task": "pdf",
        "applications.tasks.scan_attachment_task": "default",  # waits on clamd: I/O, not CPU
        "applications.tasks.send_closing_summary_task": "email",
        "applications.tasks.send_due_reminders_task": "email",  # send_*, though it only queues reminders
        "applications.tasks.send_reminder_task": "email",
        "applications.tasks.send_submission_receipts_task": "email",
        "jobs.tasks.sweep_outbox_task": "default",
    }


def test_beat_closes_reminds_sweeps_and_refreshes_rankings_every_minute():
    schedule = {entry["task"]: seconds(entry["schedule"]) for entry in conf.beat_schedule.values()}

    assert schedule == {
        "applications.tasks.close_due_calls_task": 60.0,
        "applications.tasks.send_due_reminders_task": 60.0,
        "audit.tasks.record_digest_task": 3600.0,
        "jobs.tasks.sweep_outbox_task": 60.0,
        "reviews.tasks.refresh_rankings_task": 60.0,  # stored rankings made stale by a change
    }


def test_no_retry_waits_longer_than_the_visibility_timeout():
    # A retry waiting in a worker past the visibility timeout would be delivered a second time.
    for name in OUR_TASKS:
        task = celery_app.tasks[name]
        assert task.default_retry_delay < VISIBILITY_TIMEOUT, name
        if getattr(task, "autoretry_for", ()):
            assert task.acks_late is True, name
            assert 0 < task.retry_backoff_max < VISIBILITY_TIMEOUT, name
            assert task.max_retries >= 1, name


def test_development_mail_is_written_under_the_data_directory(tmp_path):
    # Read in a fresh process: the tests' own EMAIL_URL (memorymail://) hides the default.
    env = {key: value for key, value in os.environ.items() if key != "EMAIL_URL"}
    env["PTCE_DATA_DIR"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.EMAIL_FILE_PATH)"],
        env={**env, "DJANGO_SETTINGS_MODULE": "ptce_portal.settings"},
        cwd=Path(settings.BASE_DIR),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    assert result.stdout.strip() == str(tmp_path / "mail")
