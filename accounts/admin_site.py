"""The portal's admin site: Django's, with its list of apps and models kept per set of rights.

Every admin page lists the apps and models the user may see (the navigation sidebar, the index):
Django works it out again on each page, some sixty permission checks and fifty URL reversals,
about a sixth of a changelist's time. What it shows is a function of who the user is in terms of
rights only: active, staff and superuser flags, permissions, roles (the `has_*_permission` of
this portal's model admins read nothing else when no object is given). So the list is kept in
this process under a digest of those, the language and the URL prefix: two program staff share
one entry, and any change of rights gives another digest, so nothing is ever invalidated.

The sidebar's HTML is kept the same way (another sixth of a changelist): it is that list written
out, with the app and the models whose links lie in the current address highlighted, so it is
kept under the digest and which of its links the address holds.

A model admin whose `has_*_permission(request)` (without an object) came to depend on anything
else (the date, a call's state) would have to leave this cache: `accounts/tests/test_admin_site.py`
compares the kept list with a fresh one for every role.
"""

from __future__ import annotations

import hashlib
from urllib.parse import quote

from django.contrib import admin
from django.template.loader import render_to_string
from django.urls import get_script_prefix
from django.utils.translation import get_language

KEPT_PER_PROCESS = 256  # app lists (and sidebars) kept per process: a handful of sets of rights in practice


class PortalAdminSite(admin.AdminSite):
    site_header = "Portail PTCE — administration"
    site_title = "Portail PTCE"
    index_title = "Tableau de bord"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._app_lists: dict[str, list[dict]] = {}
        self._sidebars: dict[tuple[str, tuple[bool, ...]], str] = {}

    @staticmethod
    def rights_digest(request, app_label=None) -> str:
        """A digest of everything the app list depends on (see the module's docstring), worked out
        once per request: the app list and the sidebar of a page both ask for it."""
        digests = request.__dict__.setdefault("_admin_rights_digests", {})
        if app_label not in digests:
            user = request.user
            rights = (
                user.is_active,
                user.is_staff,
                user.is_superuser,
                # An active superuser has every permission: no need to read them all.
                "all" if user.is_active and user.is_superuser else sorted(user.get_all_permissions()),
                sorted(getattr(user, "role_names", ())),
                get_language(),
                get_script_prefix(),
                app_label,
            )
            digests[app_label] = hashlib.sha256(repr(rights).encode()).hexdigest()
        return digests[app_label]

    def get_app_list(self, request, app_label=None):
        """Django's app list (treat it as read-only: it is shared by the users with these rights)."""
        key = self.rights_digest(request, app_label)
        app_list = self._app_lists.get(key)
        if app_list is None:
            app_list = super().get_app_list(request, app_label)
            keep_bounded(self._app_lists, key, app_list)
        return app_list

    def nav_sidebar(self, request, available_apps: list[dict]) -> str:
        """Django's "admin/nav_sidebar.html" for this request, written once per rights and place."""
        # app_list.html highlights what `link in request.path|urlencode` holds: that is the key.
        path = quote(request.path, safe="/")
        place = tuple(
            link in path
            for app in available_apps
            for link in (app["app_url"], *(m["admin_url"] for m in app["models"]))
        )
        key = (self.rights_digest(request), place)
        html = self._sidebars.get(key)
        if html is None:
            html = render_to_string("admin/nav_sidebar.html", {"available_apps": available_apps, "request": request})
            keep_bounded(self._sidebars, key, html)
        return html


def keep_bounded(kept: dict, key, value) -> None:
    if len(kept) >= KEPT_PER_PROCESS:
        kept.clear()
    kept[key] = value
