from django.apps import AppConfig


class AwardsConfig(AppConfig):
    name = "awards"
    verbose_name = "Décisions et subventions"

    def ready(self) -> None:
        from accounts.roles import Role, extend_role_permissions

        # Changes go through awards.services from the admin; no role adds or deletes these rows there.
        extend_role_permissions(
            Role.PROGRAM_STAFF,
            [
                f"awards.{verb}_{model}"
                for model in ["decision", "award", "tranche", "activityreport", "decisionletter"]
                for verb in ("view", "change")
            ],
        )
