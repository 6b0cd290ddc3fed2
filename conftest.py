"""Fixtures shared by every app's tests: users per role and a real Celery worker."""

import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.core.cache import cache
from django.test import RequestFactory

from accounts.middleware import LAST_SEEN_KEY
from accounts.roles import Role
from accounts.second_factor import record_second_factor, requires_second_factor
from accounts.tests.factories import UserFactory
from ptce_portal.celery import app as celery_app


@pytest.fixture(autouse=True)
def _empty_cache():
    """The cache is a real Redis database kept for the tests (REDIS_DB in pytest.ini): rate
    limits and cached values must not leak from one test into the next."""
    cache.clear()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The real hasher is slow by design; tests create many users and check no password strength.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def applicant(db):
    return UserFactory(role=Role.APPLICANT)


@pytest.fixture
def reviewer(db):
    return UserFactory(role=Role.REVIEWER)


@pytest.fixture
def program_staff(db):
    return UserFactory(role=Role.PROGRAM_STAFF)


def sign_in(client, user):
    """Signs `user` in on a test client the way the portal expects for their role.

    Every test that needs a signed-in user goes through here, so a change to what a complete
    sign-in means (a second factor for staff and reviewers) is made in one place.
    """
    client.force_login(user)
    if requires_second_factor(user):
        # As if they had typed a TOTP code at log-in: an authenticator app, the "mfa" step
        # recorded in the session as allauth records it, and a fresh staff session.
        authenticator = totp_authenticator(user)
        request = RequestFactory().get("/")
        request.session = client.session
        request.user = user
        record_second_factor(request, authenticator)
        request.session[LAST_SEEN_KEY] = int(time.time())
        request.session.set_expiry(0)
        request.session.save()
    return client


def totp_authenticator(user):
    """The user's TOTP authenticator, created with a random secret if they have none."""
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    existing = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    return existing or TOTP.activate(user, generate_totp_secret()).instance


@pytest.fixture
def celery_worker(transactional_db):
    """A real worker thread consuming every queue of the real Redis broker.

    It comes with `transactional_db`: the worker's own connection must see what the test
    committed, and Celery's Django fix-up closes connections when the worker starts, which
    would break a test wrapped in a transaction.
    """
    celery_app.control.purge()
    with start_worker(
        celery_app,
        pool="solo",
        concurrency=1,
        queues=["default", "pdf", "email"],
        loglevel="WARNING",
        # The built-in ping check needs stored results; ours are off by default, and the
        # worker thread is already consuming when start_worker returns.
        perform_ping_check=False,
        shutdown_timeout=30,
    ) as worker:
        _wait_until_worker_answers(worker.hostname)
        yield worker


def _wait_until_worker_answers(hostname: str, timeout: float = 15) -> None:
    # The worker consumes tasks as soon as it starts, but its remote-control queue may be bound
    # a moment later; /health/ pings through it.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if celery_app.control.ping(destination=[hostname], timeout=0.5):
            return
    raise RuntimeError(f"worker {hostname} did not answer pings")


@pytest.fixture
def media(settings, tmp_path):
    """Uploaded and generated files go to a temporary folder for the test."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}},
    }
    return tmp_path


# --- Browser tests (Playwright driving Debian's Chromium) ---


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    # Keeps each phase's report on the test item, so a fixture can tell that the test failed.
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(scope="module")
def chromium():
    """One browser per module of browser tests.

    Playwright's sync API keeps an event loop running in the test thread while it is started, so
    Django's async-safety check would refuse every ORM call: it is switched off for exactly that
    time. Not in pytest.ini: subprocesses would inherit it and `check --deploy` rightly fails
    (async.E001) when the variable is set.
    """
    from ptce_portal.tests.browser import CHROMIUM, launch

    if not CHROMIUM.exists():
        pytest.skip("Chromium absent : tests navigateur ignorés (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        playwright = sync_playwright().start()
        browser = launch(playwright)
        yield browser
        browser.close()
        playwright.stop()


@pytest.fixture
def open_page(request, chromium, live_server):
    """Opens a page in a fresh browser context (its own cookies); on failure, keeps evidence of each.

    Chromium reports every Content Security Policy violation on the console: a browser test whose
    pages had any fails, so each journey also proves the policy breaks nothing it uses.
    """
    from ptce_portal.tests.browser import new_page, save_evidence

    pages = []
    csp_violations = []

    def record_csp_violation(message):
        if "Content Security Policy" in message.text:
            csp_violations.append(f"{message.page.url if message.page else ''}: {message.text}")

    def open_page():
        page = new_page(chromium, live_server.url)
        page.context.on("console", record_csp_violation)
        pages.append(page)
        return page

    yield open_page
    report = getattr(request.node, "rep_call", None)
    for index, page in enumerate(pages):
        if report is not None and report.failed and not page.is_closed():
            save_evidence(page, f"{request.node.name}-{index}")
        page.context.close()
    if report is not None and report.passed and csp_violations:
        pytest.fail("Content Security Policy violations:\n" + "\n".join(csp_violations))


@pytest.fixture
def page(open_page):
    return open_page()
