"""Sessions of the people who work in the admin (reviewers, program staff, superusers).

Their session ends when the browser closes and after an idle time, and nothing outside allauth's
own pages (log-in, log-out, two-factor) opens until a second factor was checked in the session:
without an authenticator app they are sent to enrol one, with one they are asked for a code.
Applicants keep Django's default session.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.http import urlencode

from .second_factor import has_totp, requires_second_factor, second_factor_done

LAST_SEEN_KEY = "staff_last_seen"
# The last-seen time is written at most this often (seconds), not on every request.
LAST_SEEN_RESOLUTION = 60

ENROL_MESSAGE = "La double authentification est obligatoire pour votre compte : activez-la pour continuer."


def idle_message() -> str:
    minutes = settings.STAFF_SESSION_IDLE_TIMEOUT // 60
    return f"Votre session a expiré après {minutes} minutes d'inactivité. Veuillez vous reconnecter."


class StaffSessionMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = request.user
        if not requires_second_factor(user):
            return None
        session = request.session
        now = int(time.time())
        last_seen = session.get(LAST_SEEN_KEY)
        if last_seen is not None and now - last_seen > settings.STAFF_SESSION_IDLE_TIMEOUT:
            logout(request)
            messages.info(request, idle_message())
            return redirect_to_login(request.get_full_path())
        if last_seen is None or now - last_seen >= LAST_SEEN_RESOLUTION:
            session[LAST_SEEN_KEY] = now
        if not session.get_expire_at_browser_close():
            session.set_expiry(0)

        # allauth's pages are where the second factor is given (and log-out must always work).
        if view_func.__module__.startswith("allauth.") or second_factor_done(request):
            return None
        if has_totp(user):
            return redirect(f"{reverse('mfa_reauthenticate')}?{urlencode({'next': request.get_full_path()})}")
        messages.warning(request, ENROL_MESSAGE)
        return redirect("mfa_activate_totp")


class PrivateCacheMiddleware:
    """Pages shown to a signed-in person are theirs alone: no shared cache (proxy, CDN) may keep
    them. `private`, not `no-store`, so the browser's back button still works; a view that sets
    its own Cache-Control (downloads, the personal-data export) keeps it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.user.is_authenticated and not response.has_header("Cache-Control"):
            patch_cache_control(response, private=True)
        return response
