"""A user's roles and permissions, read together in one query.

Every page with the portal's header asks for the user's roles (the menu differs for reviewers and
program staff), and every admin page for their permissions, which Django's ModelBackend reads in
two queries of its own (the user's permissions, then their groups'). Roles are groups, so the
three lists live in the same tables: one statement reads them all, once per request
(`User.rights` is cached on the request's user; `accounts.backends.ModelBackend` answers
permission checks from it).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection

ROLE, PERMISSION = "r", "p"


@dataclass(frozen=True)
class Rights:
    roles: frozenset[str]  # names of the user's groups
    permissions: frozenset[str]  # "app_label.codename", granted to the user or to one of their groups


@functools.cache
def _statement() -> str:
    user = get_user_model()
    groups = user._meta.get_field("groups").remote_field.through._meta
    own = user._meta.get_field("user_permissions").remote_field.through._meta
    of_groups = Group._meta.get_field("permissions").remote_field.through._meta
    tables = {
        "group": Group._meta.db_table,
        "user_groups": groups.db_table,
        "user_groups_user": groups.get_field(user._meta.model_name).column,
        "user_groups_group": groups.get_field("group").column,
        "permission": Permission._meta.db_table,
        "content_type": ContentType._meta.db_table,
        "own": own.db_table,
        "own_user": own.get_field(user._meta.model_name).column,
        "own_permission": own.get_field("permission").column,
        "group_permissions": of_groups.db_table,
        "group_permissions_group": of_groups.get_field("group").column,
        "group_permissions_permission": of_groups.get_field("permission").column,
    }
    return (
        'SELECT %(role)s, g.name FROM "{group}" g '
        'JOIN "{user_groups}" ug ON ug."{user_groups_group}" = g.id WHERE ug."{user_groups_user}" = %(user)s '
        "UNION ALL "
        "SELECT %(permission)s, ct.app_label || '.' || p.codename "
        'FROM "{permission}" p JOIN "{content_type}" ct ON ct.id = p.content_type_id '
        'WHERE p.id IN (SELECT "{own_permission}" FROM "{own}" WHERE "{own_user}" = %(user)s '
        'UNION SELECT gp."{group_permissions_permission}" FROM "{group_permissions}" gp '
        'JOIN "{user_groups}" ug ON ug."{user_groups_group}" = gp."{group_permissions_group}" '
        'WHERE ug."{user_groups_user}" = %(user)s)'
    ).format(**tables)


def read_rights(user_id: int) -> Rights:
    with connection.cursor() as cursor:
        cursor.execute(_statement(), {"role": ROLE, "permission": PERMISSION, "user": user_id})
        rows = cursor.fetchall()
    return Rights(
        roles=frozenset(name for kind, name in rows if kind == ROLE),
        permissions=frozenset(name for kind, name in rows if kind == PERMISSION),
    )
