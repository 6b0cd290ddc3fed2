"""Production security settings, checked in a subprocess with production environment values, and
the Content Security Policy sent with every page."""

import json
import os
import subprocess
import sys
from pathlib import Path

from django.urls import reverse

from conftest import sign_in

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DEBUG": "false",
    "HTTPS": "true",
    "SECRET_KEY": "x7Jq-2mZ!pR9vL0#tY4wB8nC1sD6fG3hK5aE_uI(oP)QzXcVbNm",
    "ALLOWED_HOSTS": "ptce.example.gouv.fr",
}
PRINT_SETTINGS = """
import json, django
from django.conf import settings
django.setup()
names = ["SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "CSRF_COOKIE_HTTPONLY",
         "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_CONTENT_TYPE_NOSNIFF", "SECURE_REFERRER_POLICY",
         "X_FRAME_OPTIONS", "DEBUG"]
print(json.dumps({name: getattr(settings, name) for name in names}))
"""


def run(args, **environment):
    env = {key: value for key, value in os.environ.items() if key not in PRODUCTION}
    env.update(environment)
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_the_dev_default_secret_key_is_flagged_by_check_deploy():
    without_key = {key: value for key, value in PRODUCTION.items() if key != "SECRET_KEY"}

    result = run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], **without_key)

    assert result.returncode != 0
    assert "security.W009" in result.stdout + result.stderr


def test_production_values_turn_on_https_only_cookies_and_headers():
    result = run([sys.executable, "-c", PRINT_SETTINGS], DJANGO_SETTINGS_MODULE="ptce_portal.settings", **PRODUCTION)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "CSRF_COOKIE_HTTPONLY": True,
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_CONTENT_TYPE_NOSNIFF": True,
        "SECURE_REFERRER_POLICY": "same-origin",
        "X_FRAME_OPTIONS": "DENY",
        "DEBUG": False,
    }


def directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


def assert_strict_policy(response):
    policy = directives(response)
    assert policy["script-src"][0] == "'self'"
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "'unsafe-eval'" not in policy["script-src"]
    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]


def test_portal_pages_send_a_strict_content_security_policy(client, db):
    for url in ("/", reverse("account_login"), reverse("accessibility")):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_strict_policy(response)
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"


def test_admin_pages_send_the_same_policy(client, program_staff):
    sign_in(client, program_staff)

    response = client.get(reverse("admin:accounts_user_change", args=[program_staff.pk]))

    assert response.status_code == 200
    assert_strict_policy(response)


def test_pages_of_a_signed_in_person_are_never_kept_by_a_shared_cache(client, applicant):
    anonymous = client.get(reverse("home"))
    sign_in(client, applicant)

    signed_in = client.get(reverse("applications:dashboard"))

    assert not anonymous.has_header("Cache-Control")
    assert signed_in["Cache-Control"] == "private"
