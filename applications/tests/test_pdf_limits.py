"""Time limits of PDF rendering, applied by a real prefork worker (a fault test: own Redis, own worker).

Only a prefork pool enforces time limits (the solo pool of the `celery_worker` fixture does not),
so the worker runs as a subprocess. The message carries the limits (from CELERY_TASK_*_TIME_LIMIT
when sent normally, checked in test_pdf_safety.py); here they are shortened for this one message.
"""

import sys
import time
import uuid

import pytest

from applications.tasks import render_submission_pdf_task
from jobs.tests.conftest import (  # noqa: F401 - fixtures used below by name
    Process,
    log_tail,
    mail_dir,
    private_broker,
    process_env,
    redis_server,
    shared_media,
    wait_for,
)
from ptce_portal.celery import app as celery_app

from .snapshots import build_snapshot_content, create_submission

pytestmark = pytest.mark.fault

SOFT_LIMIT, HARD_LIMIT = 1, 3


def oversized_content() -> dict:
    """A snapshot far too long to render within the shortened limits (many seconds of layout)."""
    content = build_snapshot_content()
    for section in content["sections"]:
        for field in section["fields"]:
            field["value"] = ("Mutualisation des locaux, des services et des compétences. " * 90)[:5000]
    content["sections"] = content["sections"] * 30
    return content


def test_worker_stops_a_render_running_past_its_time_limit(
    private_broker,  # noqa: F811
    process_env,  # noqa: F811
    transactional_db,
    tmp_path,
):
    submission = create_submission(content=oversized_content())
    hostname = f"limits-{uuid.uuid4().hex[:8]}@localhost"
    worker = Process(
        "worker-limits",
        [
            *(sys.executable, "-m", "celery", "-A", "ptce_portal", "worker", "--pool", "prefork"),
            *("--concurrency", "1", "-Q", "pdf", "--loglevel", "INFO", "-n", hostname),
            *("--without-mingle", "--without-gossip"),
        ],
        process_env,
        tmp_path,
    )
    try:
        wait_for(
            lambda: celery_app.control.ping(destination=[hostname], timeout=0.5),
            timeout=60,
            what=f"a ping answer from {worker.describe()}",
        )
        sent = time.monotonic()
        render_submission_pdf_task.apply_async(
            kwargs={"submission_id": submission.pk}, soft_time_limit=SOFT_LIMIT, time_limit=HARD_LIMIT
        )
        log = wait_for(
            lambda: (text := worker.log.read_text(errors="replace")) and "time limit (" in text and text,
            timeout=HARD_LIMIT + 30,
            what=f"a time limit in {worker.describe()}",
        )
        stopped_after = time.monotonic() - sent
    finally:
        worker.stop()

    submission.refresh_from_db()
    assert f"Soft time limit ({SOFT_LIMIT}s) exceeded for applications.tasks.render_submission_pdf_task" in log
    assert stopped_after < HARD_LIMIT + 20  # queueing and start-up included
    assert (submission.pdf_rendered_at, submission.pdf.name) == (None, "")
