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
    # Tables and columns as Django names them for the three many-to-many relations.
    groups = get_user_model()._meta.get_field("groups")
    own = get_user_model()._meta.get_field("user_permissions")
    granted = Group._meta.get_field("permissions")
    user_groups = f'"{groups.m2m_db_table()}" ug'
    member_is = f'ug."{groups.m2m_column_name()}" = %(user)s'
    return (
        f"SELECT '{ROLE}', g.name FROM \"{Group._meta.db_table}\" g "
        f'JOIN {user_groups} ON ug."{groups.m2m_reverse_name()}" = g.id WHERE {member_is} '
        "UNION ALL "
        f"SELECT '{PERMISSION}', ct.app_label || '.' || p.codename FROM \"{Permission._meta.db_table}\" p "
        f'JOIN "{ContentType._meta.db_table}" ct ON ct.id = p.content_type_id '
        f'WHERE p.id IN (SELECT "{own.m2m_reverse_name()}" FROM "{own.m2m_db_table()}" '
        f'WHERE "{own.m2m_column_name()}" = %(user)s '
        f'UNION SELECT gp."{granted.m2m_reverse_name()}" FROM "{granted.m2m_db_table()}" gp '
        f'JOIN {user_groups} ON ug."{groups.m2m_reverse_name()}" = gp."{granted.m2m_column_name()}" '
        f"WHERE {member_is})"
    )


def read_rights(user_id: int) -> Rights:
    with connection.cursor() as cursor:
        cursor.execute(_statement(), {"user": user_id})
        rows = cursor.fetchall()
    return Rights(
        roles=frozenset(name for kind, name in rows if kind == ROLE),
        permissions=frozenset(name for kind, name in rows if kind == PERMISSION),
    )
