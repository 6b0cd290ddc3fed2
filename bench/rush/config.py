"""Names, places and the p95 shared by the rush benchmark's preparation, runner and Locust file
(and the staff pages benchmark)."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
WORK = Path(os.environ.get("BENCH_RUSH_DIR", ROOT / ".data" / "bench-rush"))  # .data is ignored by git
DATA_FILE = WORK / "people.json"
MEDIA_ROOT = WORK / "media"
CALL_SLUG = "mesure-rush"
SEED_DATABASE = "ptce_bench_rush_seed"  # prepared once, copied for each run
RUN_DATABASE = "ptce_bench"
REDIS_DB = "10"


def database_url(name: str) -> str:
    server = urlsplit(os.environ.get("BENCH_SERVER_URL", "postgres://postgres@127.0.0.1:5432/postgres"))
    return f"postgres://{server.username or 'postgres'}@{server.hostname}:{server.port or 5432}/{name}"


def p95(values: list[float]) -> float:
    """The 95th percentile of the values (nearest rank)."""
    values = sorted(values)
    return values[max(0, min(len(values) - 1, round(0.95 * len(values)) - 1))]
