"""Staff pages at 2,000 and 10,000 dossiers: ranking, selection console, admin changelists of
dossiers, reviews and awards, over HTTP against gunicorn, as ratios to the calibration view.

    python -m bench.staff_pages_bench                     # both sizes, 40 requests per page
    python -m bench.staff_pages_bench --sizes 2000 --requests 10

Unlike the other benchmarks, the data are kept: generating 10,000 dossiers takes minutes, so each
size lives in its own database (`ptce_bench_staff_<size>`), made once by `manage.py
generate_dataset --dossiers <size> --reviewers <size/20> --seed 2013` plus a committee selection
(awards.services.record_selection: the best-ranked dossiers within the envelope, the others on the
waiting list), and reused by later runs (`--regenerate` starts again; `--drop` removes them).

For each size, in a subprocess: gunicorn as in production (bench.settings, `--workers 2*CORES+1`),
a program staff session made server-side (bench.sessions), then for each page five warm-up requests
per worker and N rounds of (calibration view, page), one request at a time; the figure is
p95(page) / p95(calibration). The data are vacuumed and analysed first, as autovacuum would. The query count of each page comes from one request through Django's test
client in the same subprocess. Target: <= 5x at 10,000 dossiers.

The selection console is measured once its proposal is solved (a call of more than 2,000
candidates has it solved by a worker; here, in process, before the rounds). The ranking is
measured in its steady state (stored lines up to date), and, reported apart, right after a
change it reads (the call's stamp bumped as a review's submission bumps it): those views compute
the stored lines again.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from bench.rush.config import p95
from bench.rush.run import loadavg, start, stop

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".data" / "bench-staff"
SEED = 2013
CALL_SLUG = f"jeu-de-donnees-{SEED}"
TARGET = 5.0
PORT = 8792
TIME_BUDGET = 90  # seconds per page at most; N is cut short (and said so) past it
PAGES = [
    ("ranking (/programme/…/classement/)", f"/programme/appels/{CALL_SLUG}/classement/"),
    ("selection console (/programme/…/selection/)", f"/programme/appels/{CALL_SLUG}/selection/"),
    ("admin dossiers changelist", "/admin/applications/dossier/"),
    ("admin reviews changelist", "/admin/reviews/review/"),
    ("admin awards changelist", "/admin/awards/award/"),
]
CALIBRATION = f"/bench/calibration/?call={CALL_SLUG}"


def database(size: int) -> str:
    return f"ptce_bench_staff_{size}"


def env_for(size: int) -> dict:
    from bench.rush.config import database_url

    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": database_url(database(size)),
        "REDIS_DB": "10",
        "CACHE_KEY_PREFIX": f"bench-staff-{size}",
        "EMAIL_URL": "memorymail://",
        "MEDIA_ROOT": str(WORK / f"media-{size}"),
        "DEBUG": "false",
        "HTTPS": "false",
        "STATIC_MANIFEST": "false",
        "LOG_LEVEL": "WARNING",
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "PTCE_DATA_DIR": str(WORK),
    }


# --- In the subprocess of one size ---


def ensure_data(size: int) -> None:
    """The dataset and a committee selection, made once per database."""
    import datetime as dt

    from django.core.management import call_command
    from django.db import connection

    from applications.models import Call, Dossier
    from applications.services import requested_amounts
    from awards.models import Decision
    from awards.services import record_selection
    from demo.dataset import staff_user
    from reviews.ranking import rank_call

    call_command("migrate", verbosity=0, interactive=False)
    call = Call.objects.filter(slug=CALL_SLUG).first()
    if call is None or not call.dossiers.exists():
        started = time.perf_counter()
        call_command("generate_dataset", dossiers=size, reviewers=max(size // 20, 10), seed=SEED, stdout=sys.stderr)
        print(f"  dataset of {size:,} dossiers generated in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        call = Call.objects.get(slug=CALL_SLUG)
    if not Decision.objects.filter(dossier__call=call).exists():
        started = time.perf_counter()
        selected, spent = [], 0
        for row in rank_call(call).rows:
            if row.rank is None or row.dossier.status not in (Dossier.Status.SUBMITTED, Dossier.Status.UNDER_REVIEW):
                continue
            row.dossier.call = call
            cost = sum(requested_amounts(row.dossier))
            if spent + cost <= call.envelope:
                selected.append(row.dossier.pk)
                spent += cost
        record_selection(call, selected_ids=selected, committee_date=dt.date(2013, 12, 12), by=staff_user())
        print(
            f"  committee selection recorded ({len(selected)} laureates) in {time.perf_counter() - started:.0f} s",
            file=sys.stderr,
        )
    # What autovacuum does on a production server (it may be off on a test machine's server):
    # without it, the tables rewritten by the ranking's computations keep their dead rows.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def counts() -> dict:
    from applications.models import Dossier
    from awards.models import Award, Decision
    from reviews.models import Review

    return {
        "dossiers": Dossier.objects.filter(call__slug=CALL_SLUG).count(),
        "reviews": Review.objects.count(),
        "decisions": Decision.objects.count(),
        "awards": Award.objects.count(),
    }


def query_counts(session: str, pages: list[tuple[str, str]]) -> dict:
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = session
    result = {}
    for name, url in [("calibration", CALIBRATION), *pages]:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        result[name] = (response.status_code, len(queries))
    return result


def get(url: str, session: str) -> float:
    address = f"http://127.0.0.1:{PORT}{url}"
    request = urllib.request.Request(address, headers={"Cookie": f"sessionid={session}"})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=300) as response:
        response.read()
        # A redirect (to log-in or to the second factor) would measure another page.
        if response.status != 200 or response.geturl() != address:
            raise RuntimeError(f"{url}: HTTP {response.status} at {response.geturl()}")
    return (time.perf_counter() - started) * 1000


def solve_proposals(url: str, session: str) -> None:
    """The selection console as staff see it once the worker has solved its proposal: one view
    queues the solve (above 2,000 candidates), solved here in process (no worker runs here)."""
    from awards import proposals
    from jobs.models import Job

    get(url, session)
    started = time.perf_counter()
    solved = sum(
        proposals.solve_pending(job.kwargs["cache_key"])
        for job in Job.objects.filter(task_name="awards.tasks.propose_selection_task", status=Job.Status.PENDING)
    )
    if solved:
        print(f"  proposal solved in process in {time.perf_counter() - started:.1f} s", file=sys.stderr)


def first_views(url: str, session: str, rounds: int = 3) -> dict:
    """The ranking page right after a change it reads (its stored lines computed again): the
    call's stamp is bumped as a review's submission bumps it, then the page is read once."""
    from django.db import connection

    from applications.models import Call

    call = Call.objects.get(slug=CALL_SLUG)
    page_times, calibration_times = [], []
    for _ in range(rounds):
        with connection.cursor() as cursor:
            cursor.execute("SELECT reviews_bump_ranking(%s)", [call.pk])
        calibration_times.append(get(CALIBRATION, session))
        page_times.append(get(url, session))
    return {**figures(page_times, calibration_times), "queries": None, "status": 200, "informative": True}


def figures(page_times: list[float], calibration_times: list[float]) -> dict:
    return {
        "n": len(page_times),
        "p95_ms": p95(page_times),
        "median_ms": statistics.median(page_times),
        "calibration_p95_ms": p95(calibration_times),
        "ratio": p95(page_times) / p95(calibration_times),
    }


def measure_size(size: int, requests: int, only: list[str] | None = None) -> dict:
    import django

    django.setup()
    from django.db import connections

    from bench.sessions import session_cookie
    from demo.dataset import staff_user

    ensure_data(size)
    session = session_cookie(staff_user())
    data = counts()
    pages_measured = [(name, url) for name, url in PAGES if not only or any(word in name for word in only)]
    queries = query_counts(session, pages_measured)
    connections.close_all()
    workers = 2 * (os.cpu_count() or 1) + 1
    server = start(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "ptce_portal.wsgi",
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{PORT}",
            "--timeout",
            "300",
        ],
        dict(os.environ),
        WORK / f"gunicorn-{size}.log",
    )
    load_before = loadavg()
    pages = {}
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                get(CALIBRATION, session)
                break
            except (urllib.error.URLError, ConnectionError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        for name, url in pages_measured:
            if "selection" in name:
                solve_proposals(url, session)
            started = time.monotonic()
            # Warm-up: each worker's first request of a page compiles its templates (0.3-0.5 s).
            # Workers compete for connections rather than take turns: five requests per worker
            # leave a worker without any with a probability of (4/5)^25, under 0.4 %.
            for _ in range(5 * workers):
                get(url, session)
                get(CALIBRATION, session)
                if time.monotonic() - started > TIME_BUDGET / 3:
                    break
            page_times, calibration_times = [], []
            started = time.monotonic()
            for _ in range(requests):
                calibration_times.append(get(CALIBRATION, session))
                page_times.append(get(url, session))
                if time.monotonic() - started > TIME_BUDGET and len(page_times) >= 3:
                    break
            print(f"  {size:,}: {name}: {len(page_times)} requests, p95 {p95(page_times):.0f} ms", file=sys.stderr)
            pages[name] = {
                **figures(page_times, calibration_times),
                "queries": queries[name][1],
                "status": queries[name][0],
            }
        if any("ranking" in name for name, _url in pages_measured):
            pages["ranking, first view after a change"] = first_views(PAGES[0][1], session)
    finally:
        stop(server)
    load_after = loadavg()
    return {
        "size": size,
        "data": data,
        "calibration_queries": queries["calibration"][1],
        "pages": pages,
        "load_before": load_before,
        "load_after": load_after,
    }


# --- The parent: one subprocess per size ---


def database_exists(name: str) -> bool:
    from bench.common import _connect_admin

    with contextlib.closing(_connect_admin()) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        return cursor.fetchone() is not None


def create_database(name: str, *, again: bool) -> None:
    from psycopg import sql

    from bench.common import _connect_admin, _drop

    if again:
        _drop(name)
    if not database_exists(name):
        with contextlib.closing(_connect_admin()) as connection, connection.cursor() as cursor:
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 10000])
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--pages", nargs="+", help="measure only the pages whose name contains one of these words")
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--drop", action="store_true", help="drop the kept databases and stop")
    parser.add_argument("--prepare", action="store_true", help="make the kept databases (data only), no measure")
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)  # the subprocess of one size
    args = parser.parse_args()
    if args.size:
        if args.prepare:
            import django

            django.setup()
            ensure_data(args.size)
            return
        print(json.dumps(measure_size(args.size, args.requests, args.pages)))
        return
    from bench.common import _drop

    if args.drop:
        for size in args.sizes:
            _drop(database(size))
        return
    WORK.mkdir(parents=True, exist_ok=True)
    results = []
    for size in args.sizes:
        create_database(database(size), again=args.regenerate)
        command = [sys.executable, "-m", "bench.staff_pages_bench", "--size", str(size)]
        command += ["--prepare"] if args.prepare else ["--requests", str(args.requests)]
        command += ["--pages", *args.pages] if args.pages else []
        out = subprocess.run(command, cwd=ROOT, env=env_for(size), stdout=subprocess.PIPE, text=True, check=True)
        if not args.prepare:
            results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    if args.prepare:
        return
    os.environ.update({key: value for key, value in env_for(args.sizes[0]).items() if key == "DATABASE_URL"})
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    import django

    django.setup()
    from .common import print_environment

    print_environment()
    print(
        f"gunicorn --workers {2 * (os.cpu_count() or 1) + 1} (sync) on loopback, one request at a time, program staff "
        "session; each figure is p95(page) / p95(calibration view) over the same rounds"
    )
    for result in results:
        print()
        print(
            f"{result['size']:,} dossiers ({result['data']}); load average before {result['load_before']}, "
            f"after {result['load_after']}; calibration view: {result['calibration_queries']} queries"
        )
        for name, page in result["pages"].items():
            verdict = ("MET" if page["ratio"] <= TARGET else "MISSED") if result["size"] >= 10_000 else "-"
            if page.get("informative"):
                verdict = "(reported)"
            queries = "  " if page["queries"] is None else f"{page['queries']:>3}"
            print(
                f"  {name:<46} n={page['n']:>3}  p95 {page['p95_ms']:8.0f} ms (median {page['median_ms']:6.0f}) "
                f"calibration p95 {page['calibration_p95_ms']:5.1f} ms  {page['ratio']:8.2f}x  "
                f"{queries} queries  {verdict if page['status'] == 200 else 'HTTP ' + str(page['status'])}"
            )
    (WORK / "results.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
