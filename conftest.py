"""Fixtures shared by every app's tests: users per role and a real Celery worker."""

import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.core.cache import cache

from accounts.roles import Role
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
