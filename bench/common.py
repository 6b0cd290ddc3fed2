"""Shared harness for the on-demand benchmarks: a scratch database, the machine and the versions.

Each benchmark runs as `python -m bench.<name>` from the repository root. It creates its own
PostgreSQL database (`ptce_bench_<name>`), migrates it, runs, prints its figures as ratios against
a baseline measured in the same run, and drops the database, whatever happens.
"""

from __future__ import annotations

import contextlib
import os
import platform
import shlex
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import psycopg
from psycopg import sql

SERVER_URL = os.environ.get("BENCH_SERVER_URL", "postgres://postgres@127.0.0.1:5432/postgres")


def _connect_admin():
    parts = urlsplit(SERVER_URL)
    connection = psycopg.connect(
        host=parts.hostname, port=parts.port or 5432, user=parts.username or "postgres", dbname="postgres"
    )
    connection.autocommit = True
    return connection


def _drop(name: str) -> None:
    with contextlib.closing(_connect_admin()) as connection, connection.cursor() as cursor:
        cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextlib.contextmanager
def scratch_database(name: str) -> Iterator[str]:
    """Create `ptce_bench_<name>`, point Django at it, set Django up and migrate; drop it on exit."""
    database = f"ptce_bench_{name}"
    _drop(database)
    with contextlib.closing(_connect_admin()) as connection, connection.cursor() as cursor:
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    parts = urlsplit(SERVER_URL)
    os.environ["DATABASE_URL"] = (
        f"postgres://{parts.username or 'postgres'}@{parts.hostname}:{parts.port or 5432}/{database}"
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ptce_portal.settings")
    # Nothing leaves the bench: mail stays in memory, media in a temporary folder, and the jobs the
    # code under test queues go to a Redis database no worker reads (emptied by the benchmark).
    os.environ["EMAIL_URL"] = "memorymail://"
    os.environ.setdefault("REDIS_DB", "13")
    os.environ.setdefault("CACHE_KEY_PREFIX", "bench")
    media = tempfile.TemporaryDirectory(prefix=f"ptce-bench-{name}-")
    os.environ["MEDIA_ROOT"] = media.name
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)
        yield database
    finally:
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        _drop(database)
        media.cleanup()


def setup_django_without_database() -> None:
    """For subprocesses that only render: settings loaded, no database touched."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ptce_portal.settings")
    os.environ["EMAIL_URL"] = "memorymail://"
    import django

    django.setup()


def _cpu_model() -> str:
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _memory() -> str:
    with contextlib.suppress(OSError), open("/proc/meminfo", encoding="utf-8") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    return "unknown"


def _postgres_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return cursor.fetchone()[0]


def print_environment(*, with_postgres: bool = True) -> None:
    """The exact command, the machine and the versions, so figures can be compared run to run."""
    import django
    import weasyprint

    command = "python -m " + " ".join(
        shlex.quote(arg) for arg in [sys.modules["__main__"].__spec__.name, *sys.argv[1:]]
    )
    print(f"command   : DJANGO_SETTINGS_MODULE={os.environ.get('DJANGO_SETTINGS_MODULE')} {command}")
    print(f"machine   : {platform.platform()}, nproc={os.cpu_count()}, CPU={_cpu_model()}, memory={_memory()}")
    versions = f"Python {platform.python_version()}, Django {django.get_version()}, WeasyPrint {weasyprint.__version__}"
    if with_postgres:
        versions += f", PostgreSQL {_postgres_version()}"
    print(f"versions  : {versions}")
    print()


def median_seconds(function: Callable[[], object], *, repeat: int, warmup: int = 1) -> float:
    """Median wall time of `repeat` calls after `warmup` untimed ones (bounded loops only)."""
    for _ in range(warmup):
        function()
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)


def verdict(met: bool) -> str:
    return "MET" if met else "MISSED"
