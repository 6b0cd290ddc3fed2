"""Long-lived processes: what a gunicorn worker and a Celery pool process load before their first
request or task, and put out of the garbage collector's reach."""

import logging
import os
import subprocess
import sys
from pathlib import Path

from ptce_portal.warmup import compile_templates

ROOT = Path(__file__).resolve().parents[2]

WEB_PROBE = """
import gc, sys
from ptce_portal.wsgi import application
from django.template import engines
compiled = engines["django"].engine.template_loaders[0].get_template_cache
print(
    gc.get_freeze_count(),
    int("ptce_portal.urls" in sys.modules),
    int("applications/submission_detail.html" in compiled),
    int("emails/submission_receipt_body.txt" in compiled),
    int("kombu.transport.redis" in sys.modules),
)
"""

# What `celery worker` does before a pool process takes its first task: load the task modules,
# fork, then send worker_process_init in the child.
WORKER_PROBE = """
import gc, sys
from celery.signals import worker_process_init
from ptce_portal.celery import app
app.loader.import_default_modules()
before = gc.get_freeze_count()
worker_process_init.send(sender=None)
print(before, gc.get_freeze_count(), int("weasyprint" in sys.modules))
"""


def probe(code: str) -> list[int]:
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=os.environ.copy(), capture_output=True, text=True, check=True
    )
    return [int(value) for value in result.stdout.split()]


def test_a_web_worker_freezes_what_it_loaded_before_serving():
    """Full collections walking Django, WeasyPrint and SciPy stalled requests for 200-300 ms
    (docs/PERFORMANCE.md): the worker loads its URLconf, then freezes every object alive."""
    frozen, urls_loaded, *_ = probe(WEB_PROBE)

    assert urls_loaded  # the URLconf and its views are among the frozen objects
    assert frozen > 50_000


def test_a_web_worker_compiles_templates_and_prepares_task_sending_before_serving():
    """A worker's first receipt, submission or PDF used to compile its templates and build Celery's
    producer (40-55 ms more, after every start; docs/PERFORMANCE.md): the worker does it first."""
    *_, receipt_page, receipt_email, broker_transport = probe(WEB_PROBE)

    assert receipt_page  # compiled, in the cached loader
    assert receipt_email
    assert broker_transport  # what the first send_task would import


def test_a_template_that_does_not_compile_is_logged_and_the_others_are_compiled(tmp_path, settings, caplog):
    (tmp_path / "pages").mkdir()
    (tmp_path / "pages" / "good.html").write_text("<p>{{ name }}</p>")
    (tmp_path / "broken.html").write_text("{% if %}")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path], "APP_DIRS": False}]

    with caplog.at_level(logging.ERROR, logger="ptce_portal.warmup"):
        compiled = compile_templates()

    assert compiled == 1
    assert "broken.html" in caplog.text


def test_a_celery_pool_process_freezes_the_task_modules_once_forked():
    """Full collections were 14 % of a PDF render's time (docs/PERFORMANCE.md): each pool process
    freezes what it inherited, WeasyPrint included, before its first task."""
    before, frozen, weasyprint_loaded = probe(WORKER_PROBE)

    assert before == 0
    assert weasyprint_loaded  # the PDF task's renderer is among the frozen objects
    assert frozen > 50_000
