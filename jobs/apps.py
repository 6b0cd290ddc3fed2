from django.apps import AppConfig


class JobsConfig(AppConfig):
    """Background work recorded in the database first (a transactional outbox), then sent to Celery."""

    name = "jobs"
    verbose_name = "Travaux en arrière-plan"

    def ready(self) -> None:
        from accounts.roles import Role, extend_role_permissions

        extend_role_permissions(Role.PROGRAM_STAFF, ["jobs.view_job", "jobs.change_job", "jobs.view_heartbeat"])
