"""The web entry point: what a gunicorn worker loads before its first request."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import gc, sys
from ptce_portal.wsgi import application
print(gc.get_freeze_count(), int("ptce_portal.urls" in sys.modules))
"""


def test_a_web_worker_freezes_what_it_loaded_before_serving():
    """Full collections walking Django, WeasyPrint and SciPy stalled requests for 200-300 ms
    (docs/PERFORMANCE.md): the worker loads its URLconf, then freezes every object alive."""
    probe = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=os.environ.copy(), capture_output=True, text=True, check=True
    )

    frozen, urls_loaded = (int(value) for value in probe.stdout.split())
    assert urls_loaded  # the URLconf and its views are among the frozen objects
    assert frozen > 50_000
