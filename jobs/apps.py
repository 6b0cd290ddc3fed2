from django.apps import AppConfig


class JobsConfig(AppConfig):
    """Background work recorded in the database first (a transactional outbox), then sent to Celery."""

    name = "jobs"
    verbose_name = "Travaux en arrière-plan"

    def ready(self) -> None:
        from django.core.signals import request_finished, request_started
        from django.db import close_old_connections

        from accounts.roles import Role, extend_role_permissions

        from . import services

        request_started.connect(services._start_collecting, dispatch_uid="jobs-collect-sends")
        # Jobs are sent when the server closes the response, before Django's own receiver may
        # close the database connection their stamp is written on.
        request_finished.disconnect(close_old_connections)
        request_finished.connect(services._send_collected, dispatch_uid="jobs-send-after-response")
        request_finished.connect(close_old_connections)

        extend_role_permissions(Role.PROGRAM_STAFF, ["jobs.view_job", "jobs.change_job", "jobs.view_heartbeat"])
