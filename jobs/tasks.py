from celery import shared_task

from . import services


@shared_task(name="jobs.tasks.sweep_outbox_task", ignore_result=True)
def sweep_outbox_task() -> int:
    """Every minute, from beat: resend pending jobs and record that beat is alive."""
    services.record_heartbeat("beat")
    return services.sweep_outbox()
