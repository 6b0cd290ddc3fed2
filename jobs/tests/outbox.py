"""Run the outbox's pending jobs in the test process, as a worker would (tasks looked up by name)."""

from jobs.models import Job
from ptce_portal.celery import app


def run_pending_jobs() -> int:
    app.loader.import_default_modules()  # registers every app's tasks, as a worker does at start
    jobs = list(Job.objects.pending().order_by("pk"))
    for job in jobs:
        app.tasks[job.task_name].apply(kwargs={**job.kwargs, "job_id": job.pk}, throw=True)
    return len(jobs)
