"""Long-lived processes: what a gunicorn worker and a Celery pool process load before their first
request or task, and put out of the garbage collector's reach."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

WEB_PROBE = """
import gc, sys
from ptce_portal.wsgi import application
print(gc.get_freeze_count(), int("ptce_portal.urls" in sys.modules))
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
    frozen, urls_loaded = probe(WEB_PROBE)

    assert urls_loaded  # the URLconf and its views are among the frozen objects
    assert frozen > 50_000


def test_a_celery_pool_process_freezes_the_task_modules_once_forked():
    """Full collections were 14 % of a PDF render's time (docs/PERFORMANCE.md): each pool process
    freezes what it inherited, WeasyPrint included, before its first task."""
    before, frozen, weasyprint_loaded = probe(WORKER_PROBE)

    assert before == 0
    assert weasyprint_loaded  # the PDF task's renderer is among the frozen objects
    assert frozen > 50_000
