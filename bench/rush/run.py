"""Deadline-rush load benchmark and its headroom, on the production stack over loopback.

    python -m bench.rush.prepare            # once (~4 min): template database and sessions
    python -m bench.rush.run --runs 3 --phase-seconds 60 --max-factor 4 --past-ratio-misses
                                            # ~5 min per run at most

Each run starts from a fresh copy of the prepared database (`ptce_bench`), an empty Redis database
10 and an empty media folder; starts gunicorn as the README recommends for this machine (`--workers
2*CORES+1`, sync), the two Celery worker groups of the README (pdf: CORES processes, prefetch 1, at
nice 19; --pdf-concurrency and --pdf-priority say otherwise, idle for SCHED_IDLE; default+email:
2*CORES) and Locust headless (bench/rush/locustfile.py) on the same machine; then stops them all.
Locust plays phases at 1x, 2x, 3x... the base rush and stops after the first phase with an error,
with a saturated server (calibration p95 above SATURATION x the idle one) or, without
--past-ratio-misses, with a step above the ratio target; or at --max-factor.

Figures: for each phase and step, the step's p95 divided by the p95 of /bench/calibration/ in the
same phase (first BENCH_RUSH_WARMUP_SECONDS of each phase left out); over the runs, the median and
the spread (min-max) of those ratios. Target: every step <= 3x, zero errors; headroom >= 3x.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from . import cpu
from .config import DATA_FILE, MEDIA_ROOT, REDIS_DB, ROOT, RUN_DATABASE, SEED_DATABASE, WORK, database_url, p95

CALIBRATION = "calibration"
TARGET, HEADROOM_TARGET = 3.0, 3
SATURATION = 10.0  # calibration p95 under load / idle calibration p95 above which the server is saturated
CORES = os.cpu_count() or 1
WEB_WORKERS = 2 * CORES + 1  # README, "Scaling and operations"
# README, "Scaling and operations": renders yield the cores to the web processes. SCHED_IDLE with the
# cores but one (`--pdf-priority idle --pdf-concurrency 1` here) was measured and did no better.
PDF_PRIORITY = "19"
PDF_CONCURRENCY = CORES
VENV_BIN = Path(sys.executable).parent
CPU_READING_EVERY = 5  # seconds between two CPU readings during a run


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def server_env(port: int) -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": database_url(RUN_DATABASE),
        "REDIS_DB": REDIS_DB,
        "CACHE_KEY_PREFIX": "bench-rush",
        "EMAIL_URL": "memorymail://",
        "MEDIA_ROOT": str(MEDIA_ROOT),
        "DEBUG": "false",
        "HTTPS": "false",
        "STATIC_MANIFEST": "false",
        "LOG_LEVEL": "WARNING",
        "SITE_URL": f"http://127.0.0.1:{port}",
        "PTCE_DATA_DIR": str(WORK),
    }


def reset_state(env: dict) -> None:
    """A fresh copy of the prepared database, an empty Redis database, media without uploads."""
    from psycopg import sql

    from bench.common import _connect_admin, _drop

    _drop(RUN_DATABASE)
    with contextlib.closing(_connect_admin()) as connection, connection.cursor() as cursor:
        cursor.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(RUN_DATABASE), sql.Identifier(SEED_DATABASE)
            )
        )
    # The code may have gained migrations since the preparation (other work in progress).
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--verbosity", "0"], cwd=ROOT, env=env, check=True, timeout=600
    )
    import redis

    redis.Redis(host="127.0.0.1", db=int(REDIS_DB)).flushdb()
    for child in MEDIA_ROOT.iterdir() if MEDIA_ROOT.exists() else []:
        if child.name != "datasets":  # the prepared dossiers' attachments
            shutil.rmtree(child) if child.is_dir() else child.unlink()


def start(command: list[str], env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True
    )


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait_healthy(port: int, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/", timeout=5) as response:
                if response.status == 200:
                    return
        except Exception as error:  # noqa: BLE001 - any failure means "not yet"
            last = str(error)
        time.sleep(1)
    raise RuntimeError(f"/health/ never answered 200: {last}")


def warm_up(port: int) -> None:
    """A few GETs of each page kind, so no measured request pays a worker's first imports and
    template compilation (every gunicorn worker gets some: they are spread by the kernel)."""
    people = json.loads(DATA_FILE.read_text())
    editor, spare = people["editors"][0], people["submitters"][-1]
    urls = [
        (people["calibration"]["session"], f"/bench/calibration/?call={people['call']}"),
        (editor["session"], f"/dossiers/{editor['dossier']}/rubriques/resume/"),
        (spare["session"], f"/dossiers/{spare['dossier']}/"),
        (spare["session"], f"/dossiers/{spare['dossier']}/pieces/"),
    ]
    for _ in range(4 * WEB_WORKERS):
        for session, url in urls:
            fetch(port, url, session)


def idle_calibration(port: int, count: int = 60) -> float:
    """p95 of the calibration view with nothing else from this benchmark running (ms)."""
    people = json.loads(DATA_FILE.read_text())
    url = f"/bench/calibration/?call={people['call']}"
    times = []
    for _ in range(count):
        times.append(fetch(port, url, people["calibration"]["session"]))
        time.sleep(0.1)
    return p95(times)


def fetch(port: int, url: str, session: str) -> float:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{url}", headers={"Cookie": f"sessionid={session}"})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()
    return (time.perf_counter() - started) * 1000


def analyse(samples_file: Path, phase_seconds: int, warmup: int) -> dict:
    """{factor: {"calibration_ms", "failures", "steps": {name: (count, p95_ms, ratio)}}} from the samples."""
    samples = [json.loads(line) for line in samples_file.read_text().splitlines() if line]
    starts: dict[int, float] = {}
    for moment, phase, *_ in samples:
        starts[phase] = min(starts.get(phase, moment), moment)
    phases = {}
    for phase in sorted(p for p in starts if p):
        rows = [s for s in samples if s[1] == phase and s[0] >= starts[phase] + warmup]
        by_name: dict[str, list[float]] = {}
        for _moment, _phase, name, milliseconds, _failed in rows:
            by_name.setdefault(name, []).append(milliseconds)
        if CALIBRATION not in by_name:
            continue
        base = p95(by_name[CALIBRATION])
        phases[phase] = {
            "calibration_ms": base,
            "calibration_count": len(by_name[CALIBRATION]),
            "failures": sum(1 for s in rows if s[4]),
            "failed_steps": sorted({s[2] for s in rows if s[4]}),
            "seconds": max(s[0] for s in rows) - min(s[0] for s in rows) if rows else 0,
            "start": min(s[0] for s in rows) if rows else 0,
            "end": max(s[0] for s in rows) if rows else 0,
            "steps": {
                name: (len(times), p95(times), p95(times) / base)
                for name, times in sorted(by_name.items())
                if name != CALIBRATION
            },
        }
    return phases


def met(phase: dict) -> bool:
    """The brief's rule: every step's p95 <= TARGET x the same phase's calibration p95, no error."""
    return phase["failures"] == 0 and all(ratio <= TARGET for _n, _p, ratio in phase["steps"].values())


def saturated(phase: dict, idle_ms: float) -> bool:
    """When every request queues, steps and calibration wait alike and the ratios fall towards 1:
    a phase whose calibration p95 is above SATURATION x the idle one is not counted as met."""
    return phase["calibration_ms"] > SATURATION * idle_ms


def headroom(phases: dict, idle_ms: float | None = None, *, ratio_rule: bool = True) -> int:
    """The largest factor whose phase and every phase before it met the rules."""
    factor = 0
    for phase in sorted(phases):
        if phase != factor + 1 or phases[phase]["failures"] or (ratio_rule and not met(phases[phase])):
            break
        if idle_ms is not None and saturated(phases[phase], idle_ms):
            break
        factor = phase
    return factor


def pdf_backlog(env: dict) -> str:
    """Submissions made in the run, and how many PDFs the worker had rendered when Locust stopped."""
    query = (
        "SELECT count(*), count(pdf_rendered_at) FROM applications_submission; "
        "SELECT count(*) FILTER (WHERE status <> 'done') FROM jobs_job;"
    )
    out = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", RUN_DATABASE, "-Atc", query],
        capture_output=True,
        text=True,
        check=False,
    )
    return " ".join(out.stdout.split()) or out.stderr.strip()


def prioritised(priority: str) -> list[str]:
    """What lowers a command's CPU priority: `nice -n N`, `chrt --idle 0` (Linux's SCHED_IDLE: the
    process runs only on a core no other process wants), or nothing at the web's priority ("0")."""
    if priority == "idle":
        return ["chrt", "--idle", "0"]
    return ["nice", "-n", priority] if priority != "0" else []


def cpu_priority(value: str) -> str:
    """An argparse type: "idle" or a niceness from 0 to 19."""
    if value == "idle" or (value.isdigit() and int(value) <= 19):
        return value
    raise argparse.ArgumentTypeError("a niceness from 0 to 19, or idle")


def web_server(port: int) -> list[str]:
    """gunicorn as the README's "Scaling and operations" says for this machine."""
    return [
        str(VENV_BIN / "gunicorn"),
        "ptce_portal.wsgi",
        "--workers",
        str(WEB_WORKERS),
        "--bind",
        f"127.0.0.1:{port}",
        "--timeout",
        "120",
    ]


def celery_worker(queues: str, concurrency: int, name: str, priority: str, *options: str) -> list[str]:
    """A Celery worker group of the README's "Scaling and operations"."""
    return [
        *prioritised(priority),
        str(VENV_BIN / "celery"),
        "-A",
        "ptce_portal",
        "worker",
        "-Q",
        queues,
        "--concurrency",
        str(concurrency),
        *options,
        "-n",
        name,
        "--loglevel",
        "WARNING",
    ]


def pdf_workers(name: str, *, concurrency: int = PDF_CONCURRENCY, priority: str = PDF_PRIORITY) -> list[str]:
    """The README's PDF worker group: one render at a time per process."""
    return celery_worker("pdf", concurrency, name, priority, "--prefetch-multiplier", "1")


def default_workers(name: str, *, priority: str = "0") -> list[str]:
    """The README's default and e-mail worker group."""
    return celery_worker("default,email", 2 * CORES, name, priority)


def one_run(index: int, args, port: int) -> dict:
    env = server_env(port)
    logs = WORK / f"run-{index}"
    logs.mkdir(parents=True, exist_ok=True)
    reset_state(env)
    load_before = loadavg()
    processes = {
        "web": start(web_server(port), env, logs / "gunicorn.log"),
    }
    if not args.pdf_elsewhere:
        workers = pdf_workers(f"pdf-{index}@%h", concurrency=args.pdf_concurrency, priority=args.pdf_priority)
        processes["PDF workers"] = start(workers, env, logs / "celery-pdf.log")
    workers = default_workers(f"default-{index}@%h", priority=args.default_priority)
    processes["default workers"] = start(workers, env, logs / "celery-default.log")
    samples = logs / "samples.jsonl"
    try:
        wait_healthy(port)
        warm_up(port)
        idle = idle_calibration(port)
        bound = args.phase_seconds * args.max_factor + 60
        locust_env = {
            **env,
            "BENCH_RUSH_PEOPLE": str(DATA_FILE),
            "BENCH_RUSH_SAMPLES": str(samples),
            "BENCH_RUSH_SCALE": str(args.scale),
            "BENCH_RUSH_PHASE_SECONDS": str(args.phase_seconds),
            "BENCH_RUSH_WARMUP_SECONDS": str(args.warmup),
            "BENCH_RUSH_MAX_FACTOR": str(args.max_factor),
            "BENCH_RUSH_IDLE_CALIBRATION_MS": str(idle),
            "BENCH_RUSH_STOP_ON_RATIO": "0" if args.past_ratio_misses else "1",
        }
        command = [
            str(VENV_BIN / "locust"),
            "-f",
            "bench/rush/locustfile.py",
            "--headless",
            "--host",
            f"http://127.0.0.1:{port}",
            "--run-time",
            f"{bound}s",
            "--only-summary",
            "--loglevel",
            "WARNING",
        ]
        started = time.monotonic()
        locust = start(command, locust_env, logs / "locust.log")
        # Readings every few seconds while Locust runs, for the run and cut by phase.
        groups = {**{name: process.pid for name, process in processes.items()}, "Locust": locust.pid}
        readings = [(time.time(), cpu.Reading.now(groups))]
        try:
            while True:
                try:
                    locust.wait(timeout=CPU_READING_EVERY)
                    break
                except subprocess.TimeoutExpired:
                    readings.append((time.time(), cpu.Reading.now(groups)))
                    if time.monotonic() - started > bound + 60:
                        raise
        finally:
            stop(locust)
        seconds = time.monotonic() - started
        backlog = pdf_backlog(env)
    finally:
        for process in processes.values():
            stop(process)
    load_after = loadavg()
    phases = analyse(samples, args.phase_seconds, args.warmup)
    for phase in phases.values():
        phase["cpu"] = cpu.within(readings, phase["start"], phase["end"])
    return {
        "phases": phases,
        "idle_calibration_ms": idle,
        "load_before": load_before,
        "load_after": load_after,
        "seconds": seconds,
        "backlog": backlog,
        "requests": sum(1 for _ in samples.open()),
        "cpu": cpu.within(readings),
    }


def print_run(index: int, run: dict) -> None:
    print(
        f"run {index}: {run['seconds']:.0f} s, {run['requests']:,} requests, load average before {run['load_before']}, "
        f"after {run['load_after']}; submissions / PDFs rendered / jobs not done at the end: {run['backlog']}"
    )
    idle = run["idle_calibration_ms"]
    print(f"  idle calibration p95 (before the load, same server): {idle:.0f} ms")
    if run.get("cpu"):
        seconds, spent = run["cpu"]
        print(f"  CPU seconds over {seconds:.0f} s of the load ({CORES} cores): {cpu.describe(spent)}")
    for factor, phase in run["phases"].items():
        print(
            f"  x{factor}: calibration p95 {phase['calibration_ms']:.0f} ms (n={phase['calibration_count']}, "
            f"{phase['calibration_ms'] / idle:.1f}x idle{', SATURATED' if saturated(phase, idle) else ''}), "
            f"failures {phase['failures']} {phase['failed_steps'] or ''} -> {'met' if met(phase) else 'MISSED'}"
        )
        for name, (count, milliseconds, ratio) in phase["steps"].items():
            rate = count / phase["seconds"] if phase["seconds"] else 0
            print(f"      {name:<38} n={count:>5} ({rate:5.2f}/s)  p95 {milliseconds:7.0f} ms  {ratio:6.2f}x")
        if phase.get("cpu"):
            seconds, spent = phase["cpu"]
            print(f"      CPU seconds over {seconds:.0f} s of this phase: {cpu.describe(spent)}")
    print(
        f"  headroom: x{headroom(run['phases'])} by the ratio rule, x{headroom(run['phases'], idle)} also "
        f"unsaturated, x{headroom(run['phases'], idle, ratio_rule=False)} without errors and unsaturated"
    )


def print_summary(runs: list[dict]) -> None:
    factors = sorted({factor for run in runs for factor in run["phases"]})
    print()
    print(f"Median over {len(runs)} runs of p95(step) / p95(calibration), same phase [min-max] (target <= {TARGET:g}x)")
    for factor in factors:
        present = [run["phases"][factor] for run in runs if factor in run["phases"]]
        failures = [phase["failures"] for phase in present]
        print(f"  x{factor} ({len(present)} run(s); failures per run {failures}):")
        names = sorted({name for phase in present for name in phase["steps"]})
        for name in names:
            ratios = [phase["steps"][name][2] for phase in present if name in phase["steps"]]
            median = statistics.median(ratios)
            print(
                f"      {name:<38} {median:6.2f}x  [{min(ratios):.2f}-{max(ratios):.2f}]  "
                f"{'met' if median <= TARGET else 'MISSED'}"
            )
    print()
    for label, factors_met in [
        ("by the ratio rule", [headroom(run["phases"]) for run in runs]),
        (
            f"and calibration <= {SATURATION:g}x idle (unsaturated)",
            [headroom(run["phases"], run["idle_calibration_ms"]) for run in runs],
        ),
        (
            f"without errors and unsaturated, ratios aside (calibration <= {SATURATION:g}x idle)",
            [headroom(run["phases"], run["idle_calibration_ms"], ratio_rule=False) for run in runs],
        ),
    ]:
        median = statistics.median(factors_met)
        print(
            f"Headroom {label}: per run {factors_met}, median x{median:g} "
            f"(target >= x{HEADROOM_TARGET}: {'MET' if median >= HEADROOM_TARGET else 'MISSED'})"
        )
    idle = [run["idle_calibration_ms"] for run in runs]
    print(f"Idle calibration p95 per run: {', '.join(f'{value:.0f} ms' for value in idle)}")


def versions() -> str:
    import celery
    import django
    import gunicorn
    import locust

    server = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-Atc", "SHOW server_version"], capture_output=True, text=True
    ).stdout.strip()
    redis_version = subprocess.run(["redis-cli", "INFO", "server"], capture_output=True, text=True).stdout
    redis_version = next(
        (line.split(":")[1].strip() for line in redis_version.splitlines() if line.startswith("redis_version")), "?"
    )
    return (
        f"Python {platform.python_version()}, Django {django.get_version()}, gunicorn {gunicorn.__version__}, "
        f"Celery {celery.__version__}, Locust {locust.__version__}, PostgreSQL {server}, Redis {redis_version}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--scale", type=float, default=1.0, help="< 1 only to validate the harness")
    parser.add_argument("--phase-seconds", type=int, default=75)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--max-factor", type=int, default=6)
    parser.add_argument("--port", type=int, default=8791)
    parser.add_argument(
        "--past-ratio-misses",
        action="store_true",
        help="step up past phases that miss the ratio target; stop only on errors or saturation",
    )
    parser.add_argument(
        "--pdf-priority",
        type=cpu_priority,
        default=PDF_PRIORITY,
        help=f"CPU priority of the PDF worker processes: a niceness, or idle for SCHED_IDLE (default {PDF_PRIORITY}, "
        "as the README recommends; 0: same as the web)",
    )
    parser.add_argument(
        "--pdf-concurrency",
        type=int,
        default=PDF_CONCURRENCY,
        help=f"PDF worker processes (default {PDF_CONCURRENCY}: one per core, as the README recommends)",
    )
    parser.add_argument(
        "--pdf-elsewhere",
        action="store_true",
        help="start no PDF worker: the renders wait in Redis, as they would for PDF workers on another machine "
        "(the README's advice past one machine); measures what the web alone holds",
    )
    parser.add_argument(
        "--default-priority",
        type=cpu_priority,
        default="0",
        help="CPU priority of the default and e-mail worker processes, as --pdf-priority (0: as the web)",
    )
    parser.add_argument("--summarise", type=Path, help="print the figures of a results.json again, run nothing")
    args = parser.parse_args()
    if args.summarise:
        runs = json.loads(args.summarise.read_text())
        for run in runs:
            run["phases"] = {int(factor): phase for factor, phase in run["phases"].items()}
        for index, run in enumerate(runs, start=1):
            print_run(index, run)
        print_summary(runs)
        return
    if not DATA_FILE.exists():
        raise SystemExit("run `python -m bench.rush.prepare` first")
    from bench.common import _cpu_model, _memory

    print(f"command   : {sys.executable} -m bench.rush.run {shlex.join(sys.argv[1:])}")
    print(f"machine   : {platform.platform()}, nproc={CORES}, CPU={_cpu_model()}, memory={_memory()}")
    print(f"versions  : {versions()}")
    print(
        f"stack     : gunicorn --workers {WEB_WORKERS} (sync, 2*CORES+1), "
        + (
            "no PDF worker (--pdf-elsewhere: renders wait in Redis), "
            if args.pdf_elsewhere
            else f"{shlex.join([*prioritised(args.pdf_priority), 'celery'])} -Q pdf --concurrency {args.pdf_concurrency}, "
        )
        + f"{shlex.join([*prioritised(args.default_priority), 'celery'])} -Q default,email --concurrency {2 * CORES}, PostgreSQL and Redis db {REDIS_DB}, Locust "
        "headless: all on the same machine over loopback"
    )
    print(
        f"load      : phases of {args.phase_seconds} s (first {args.warmup} s left out) at x1, x2... of 300 editors "
        f"saving every 30 s + 0.5 submission/s (2 MB PDF upload each), scale {args.scale:g}; calibration 4/s"
    )
    print()
    runs = []
    for index in range(1, args.runs + 1):
        run = one_run(index, args, args.port)
        print_run(index, run)
        runs.append(run)
        sys.stdout.flush()
    (WORK / "results.json").write_text(json.dumps(runs, indent=1))
    print_summary(runs)


if __name__ == "__main__":
    main()
