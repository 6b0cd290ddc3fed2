from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Comptes et rôles"

    def ready(self) -> None:
        from .roles import sync_role_permissions

        # Permissions of every app exist only after all migrations ran, hence post_migrate.
        post_migrate.connect(sync_role_permissions, sender=self)
