"""Roles are groups; their permissions are declared here and applied after every migrate."""

from django.db import models

# Permissions given to each role, as "app_label.codename". A permission that does not exist
# yet (its app is not migrated) is skipped and picked up on the next migrate.
ROLE_PERMISSIONS: dict[str, list[str]] = {
    "applicant": [],
    "reviewer": [],
    "program_staff": [
        "accounts.view_user",
        "accounts.change_user",
    ],
}


class Role(models.TextChoices):
    APPLICANT = "applicant", "Porteur de projet"
    REVIEWER = "reviewer", "Évaluateur"
    PROGRAM_STAFF = "program_staff", "Chargé de programme"


def extend_role_permissions(role: str, permissions: list[str]) -> None:
    """Let an app add its own permissions to a role (called from its AppConfig.ready)."""
    for permission in permissions:
        if permission not in ROLE_PERMISSIONS[role]:
            ROLE_PERMISSIONS[role].append(permission)


def sync_role_permissions(using: str = "default", **kwargs) -> None:
    from django.contrib.auth.models import Group, Permission

    by_key = {
        f"{p.content_type.app_label}.{p.codename}": p
        for p in Permission.objects.using(using).select_related("content_type")
    }
    for role in Role:
        group, _ = Group.objects.using(using).get_or_create(name=role.label)
        wanted = ROLE_PERMISSIONS[role.value]
        group.permissions.set([by_key[key] for key in wanted if key in by_key])


ADMIN_ROLES = (Role.REVIEWER, Role.PROGRAM_STAFF)


def add_role(user, role: Role) -> None:
    """Give `user` a role. Reviewers and program staff work in the admin; applicants never do."""
    from django.contrib.auth.models import Group

    group, _ = Group.objects.get_or_create(name=role.label)
    user.groups.add(group)
    if role in ADMIN_ROLES and not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    for cached in ("rights", "_perm_cache"):
        user.__dict__.pop(cached, None)
