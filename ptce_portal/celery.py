"""The Celery application. Configuration lives in settings (CELERY_* names)."""

import os

from celery import Celery
from celery.signals import worker_process_init

from ptce_portal.warmup import freeze_what_is_loaded

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ptce_portal.settings")

app = Celery("ptce_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_process_init.connect
def _freeze_after_fork(**kwargs) -> None:
    """Each pool process, once forked with the task modules loaded, freezes them as a web worker
    does (ptce_portal/warmup.py): full collections then skip Django and WeasyPrint."""
    freeze_what_is_loaded()


@app.task(name="ptce_portal.echo", ignore_result=False)
def echo(value: str) -> str:
    """Round trip through broker and worker, for diagnostics (`manage.py shell`) and tests."""
    return value
