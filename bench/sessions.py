"""Signed-in sessions for the benchmarks, created server-side so no run spends time logging in.

One place to adjust when signing in changes (e.g. a second factor for staff and reviewers): it
signs in exactly as the test suite does, through `conftest.sign_in`, and falls back to Django's
`force_login` (the auth session keys) if that helper cannot be imported.
"""

from __future__ import annotations

from django.conf import settings
from django.test import Client


def _sign_in(client: Client, user) -> None:
    try:
        from conftest import sign_in
    except ImportError:  # pragma: no cover - conftest moved or renamed
        client.force_login(user)
    else:
        sign_in(client, user)


def session_cookie(user) -> str:
    """The value of the session cookie of a complete sign-in of `user` (stored in the session backend)."""
    client = Client()
    _sign_in(client, user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value
