"""The Celery application. Configuration lives in settings (CELERY_* names)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ptce_portal.settings")

app = Celery("ptce_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="ptce_portal.echo", ignore_result=False)
def echo(value: str) -> str:
    """Round trip through broker and worker, for diagnostics (`manage.py shell`) and tests."""
    return value
