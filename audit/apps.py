from django.apps import AppConfig


class AuditConfig(AppConfig):
    """Tamper-evident history: every simple-history row is chained to the previous one by a hash."""

    name = "audit"
    verbose_name = "Intégrité de l'historique"

    def ready(self) -> None:
        from django.db.models.signals import post_save
        from simple_history.signals import post_create_historical_record

        from accounts.roles import Role, extend_role_permissions

        from . import signals
        from .chain import RECORD_TABLES

        post_create_historical_record.connect(signals.record_historical_link, dispatch_uid="audit.historical")
        for label in RECORD_TABLES:
            post_save.connect(signals.record_created_link, sender=label, dispatch_uid=f"audit.created.{label}")
        extend_role_permissions(Role.PROGRAM_STAFF, ["audit.view_auditdigest"])
