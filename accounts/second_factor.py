"""Two-factor authentication (allauth.mfa, TOTP) for the people who work in the admin.

Staff and reviewers reach personal data and decide on public money: their session counts as
signed in only once a second factor was checked in it. allauth records each authentication step
of a session; a TOTP or recovery code entered at log-in, at re-authentication or when enrolling
the authenticator app is an "mfa" step.
"""

from __future__ import annotations

import time

from allauth.account.authentication import get_authentication_records
from allauth.account.internal.flows.login import record_authentication
from allauth.mfa.models import Authenticator


def requires_second_factor(user) -> bool:
    """Everyone who may open the admin (reviewers, program staff, superusers)."""
    return user.is_authenticated and (user.is_staff or user.is_superuser)


def second_factor_done(request) -> bool:
    return any(record.get("method") == "mfa" for record in get_authentication_records(request, request.user))


def has_totp(user) -> bool:
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def record_second_factor(request, authenticator: Authenticator, *, reauthenticated: bool = False) -> None:
    """Records in the session that `authenticator` was just checked, the way allauth does."""
    record_authentication(
        request,
        authenticator.user,
        "mfa",
        id=authenticator.pk,
        type=authenticator.type,
        reauthenticated=reauthenticated or None,
    )


def record_enrolment(sender, request, user, authenticator, **kwargs) -> None:
    """Enrolling a TOTP app means typing a valid code from it: that is the second factor of this
    session, so the person is not asked for another code right after enrolling. It also counts as
    a fresh re-authentication, so the recovery codes shown next need no second password."""
    if authenticator.type == Authenticator.Type.TOTP and request is not None and request.user == user:
        record_second_factor(request, authenticator, reauthenticated=True)


def password_just_checked(request) -> bool:
    """The first enrolment right after log-in needs no second password: the password was typed in
    this session moments ago (allauth would otherwise ask for it again before showing the QR code).
    Any later change to the authenticators still asks for it."""
    from allauth.account import app_settings

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or Authenticator.objects.filter(user=user).exists():
        return False
    passwords = [r for r in get_authentication_records(request, user) if r.get("method") == "password"]
    return bool(passwords) and time.time() - passwords[-1]["at"] < app_settings.REAUTHENTICATION_TIMEOUT
