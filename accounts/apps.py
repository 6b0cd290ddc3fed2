from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Comptes et rôles"

    def ready(self) -> None:
        from allauth.mfa.signals import authenticator_added

        from .roles import sync_role_permissions
        from .second_factor import record_enrolment

        # Each app's permissions are created by its own post_migrate signal; syncing after every
        # app (it is idempotent and cheap) guarantees the roles end up with all of them.
        post_migrate.connect(sync_role_permissions, dispatch_uid="accounts.sync_role_permissions")
        authenticator_added.connect(record_enrolment, dispatch_uid="accounts.record_enrolment")
