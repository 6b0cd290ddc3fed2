"""Django's ModelBackend, answering permission checks from the user's rights read with their roles."""

from __future__ import annotations

from django.contrib.auth import backends


class ModelBackend(backends.ModelBackend):
    """Django's backend (authentication, users' and groups' permissions, inactive users refused),
    except that an active user's permissions come from `User.rights`, the query that also reads
    their roles (accounts.rights): one round trip per request instead of three on admin pages."""

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None or user_obj.is_superuser:
            return super().get_all_permissions(user_obj, obj)
        if not hasattr(user_obj, "_perm_cache"):
            # Where Django's backend keeps them, so every backend derived from it (allauth's) finds them.
            user_obj._perm_cache = set(user_obj.rights.permissions)
        return user_obj._perm_cache
