"""How fast the same requests are on the rush's stack with no load: what a rush ratio owes to the
machine rather than to the load.

    python -m bench.rush.idle                     # ~2 min, after `python -m bench.rush.prepare`
    python -m bench.rush.idle --workers all       # with the README's Celery workers, as in the rush
    python -m bench.rush.idle --workers pdf       # only the PDF workers (or: default)

Starts gunicorn as bench.rush.run does (fresh copy of the prepared database), warms it up the same
way, then, one request at a time:
- the calibration view back to back, then with GAP seconds between requests (an idle vCPU of a
  virtual machine is slow to wake: on the VMs of docs/PERFORMANCE.md the spaced ones took 2-3x);
- SUBMISSIONS prepared dossiers submitted (without the rush's upload), each followed at once by
  its receipt page, as the browser does, then the same receipt again LATER seconds after, then
  one receipt asked for again and again.
Prints median and p95 of each; no ratio target here.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import shlex
import statistics
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

from . import run
from .config import DATA_FILE, p95

GAP = 0.1
SUBMISSIONS = 25
LATER = 2.0
PORT = 8792


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """One applicant's requests: their session cookie and the CSRF cookie the portal sets."""

    opener = urllib.request.build_opener(_NoRedirect())

    def __init__(self, port: int, session: str):
        self.base = f"http://127.0.0.1:{port}"
        self.cookies = {"sessionid": session}

    def request(self, url: str, data: dict | None = None) -> tuple[float, int, dict, str]:
        """(milliseconds, status, headers, body) of one request."""
        headers = {"Cookie": "; ".join(f"{name}={value}" for name, value in self.cookies.items())}
        if data is not None:
            headers["Referer"] = self.base + url
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        started = time.perf_counter()
        try:
            with self.opener.open(urllib.request.Request(self.base + url, data=body, headers=headers)) as response:
                status, answer, text = response.status, response.headers, response.read().decode()
        except urllib.error.HTTPError as error:  # the 302 of a submission
            status, answer, text = error.code, error.headers, error.read().decode()
        milliseconds = (time.perf_counter() - started) * 1000
        for cookie in answer.get_all("Set-Cookie") or []:
            name, _, rest = cookie.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        return milliseconds, status, answer, text


def describe(times: list[float]) -> str:
    return f"median {statistics.median(times):5.1f} ms, p95 {p95(times):5.1f} ms (n={len(times)})"


def submit(browser: Browser, dossier: int) -> tuple[float, str]:
    """Submit a prepared dossier as its page's form does; (milliseconds, receipt URL)."""
    _ms, _status, _headers, page = browser.request(f"/dossiers/{dossier}/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    milliseconds, status, headers, _text = browser.request(
        f"/dossiers/{dossier}/deposer/", {"csrfmiddlewaretoken": token}
    )
    location = headers.get("Location", "")
    if status != 302 or "/versions/" not in location:
        raise SystemExit(f"dossier {dossier} was not submitted (HTTP {status}, to {location or 'nowhere'})")
    return milliseconds, location


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--workers",
        choices=["none", "all", "pdf", "default"],
        default="none",
        help="which of the README's Celery worker groups run, as in the rush (default: none)",
    )
    args = parser.parse_args()
    if not DATA_FILE.exists():
        raise SystemExit("run `python -m bench.rush.prepare` first")
    from bench.common import _cpu_model, _memory

    people = json.loads(DATA_FILE.read_text())
    env = run.server_env(PORT)
    run.reset_state(env)
    logs = run.WORK / "idle"
    logs.mkdir(parents=True, exist_ok=True)
    processes = [run.start(run.web_server(PORT), env, logs / "gunicorn.log")]
    if args.workers in ("all", "pdf"):
        processes.append(run.start(run.pdf_workers("pdf-idle@%h"), env, logs / "celery-pdf.log"))
    if args.workers in ("all", "default"):
        processes.append(run.start(run.default_workers("default-idle@%h"), env, logs / "celery-default.log"))
    print(f"command   : {sys.executable} -m bench.rush.idle {shlex.join(sys.argv[1:])}")
    print(f"machine   : {platform.platform()}, nproc={run.CORES}, CPU={_cpu_model()}, memory={_memory()}")
    print(f"versions  : {run.versions()}")
    print(f"stack     : gunicorn --workers {run.WEB_WORKERS}; Celery worker groups of the rush: {args.workers}")
    print()
    try:
        if args.workers != "none":
            run.wait_healthy(PORT)
        else:
            time.sleep(6)  # /health/ answers 503 without a worker
        run.warm_up(PORT)
        calibration = f"/bench/calibration/?call={people['call']}"
        session = people["calibration"]["session"]
        for gap in (0.0, GAP):
            times = []
            for _ in range(100):
                times.append(run.fetch(PORT, calibration, session))
                time.sleep(gap)
            print(f"{f'calibration view, {gap:g} s between requests':<40}: {describe(times)}")
        submitted, at_once, later = [], [], []
        for person in people["submitters"][-SUBMISSIONS:]:
            browser = Browser(PORT, person["session"])
            milliseconds, receipt = submit(browser, person["dossier"])
            submitted.append(milliseconds)
            at_once.append(browser.request(receipt)[0])
            time.sleep(LATER)
            later.append(browser.request(receipt)[0])
        again = [browser.request(receipt)[0] for _ in range(60)]
        for label, times in [
            ("submission (POST)", submitted),
            ("its receipt page, at once", at_once),
            (f"the same receipt page, {LATER:g} s later", later),
            ("one receipt page, asked again and again", again),
        ]:
            print(f"{label:<40}: {describe(times)}")
    finally:
        for process in processes:
            run.stop(process)


if __name__ == "__main__":
    main()
