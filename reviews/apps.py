from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    name = "reviews"
    verbose_name = "Évaluation"

    def ready(self) -> None:
        from accounts.roles import Role, extend_role_permissions

        # Reviewers work only through "Mes évaluations" (their assignments, narrowed in the admin).
        extend_role_permissions(Role.REVIEWER, ["reviews.view_assignment"])
        staff = []
        for model in ["criterion", "reviewerprofile", "conflict", "assignment"]:
            staff += [f"reviews.{verb}_{model}" for verb in ("view", "add", "change", "delete")]
        staff += ["reviews.view_review", "reviews.view_score", "reviews.view_reviewunlock"]
        extend_role_permissions(Role.PROGRAM_STAFF, staff)
