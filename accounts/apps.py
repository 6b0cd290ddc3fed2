from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
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


class PortalAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with the portal's site as `admin.site` (accounts.admin_site)."""

    default = False  # AccountsConfig stays the configuration of "accounts"

    default_site = "accounts.admin_site.PortalAdminSite"
