from django.apps import AppConfig


class ApplicationsConfig(AppConfig):
    name = "applications"
    verbose_name = "Appels et dossiers"

    def ready(self) -> None:
        from accounts.roles import Role, extend_role_permissions

        models = [
            "call",
            "attachmenttype",
            "consortium",
            "organisation",
            "membership",
            "invitation",
            "dossier",
            "submission",
            "attachment",
            "dossierevent",
        ]
        extend_role_permissions(Role.PROGRAM_STAFF, [f"applications.view_{model}" for model in models])
        extend_role_permissions(
            Role.PROGRAM_STAFF,
            [
                "applications.add_call",
                "applications.change_call",
                "applications.add_attachmenttype",
                "applications.change_attachmenttype",
                "applications.delete_attachmenttype",
                "applications.change_dossier",
            ],
        )
