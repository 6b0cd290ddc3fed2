"""`make scan`: Debian's wapiti against the portal on loopback, anonymously and as the demo applicant.

From a fresh clone: installs wapiti with apt-get when it is missing, starts the portal in
production-like mode (gunicorn, DEBUG off, a random SECRET_KEY, hashed static files; HTTPS off
because loopback has no TLS) on 127.0.0.1 only, on a database of its own (`ptce_scan` on the
server of DATABASE_URL when given, else embedded PostgreSQL and Redis in a throw-away folder),
migrates and loads the demo data, then runs two bounded wapiti scans:

- anonymous: the public pages, log-in, sign-up and password reset forms, public results;
- applicant: with the session cookie of `porteur@demo.ptce.fr`, obtained through allauth's log-in
  form; what would end the session (log-out, password, e-mail, 2FA) and one-click removals are
  not crawled.

Each scan is bounded (crawl time, time per attack module, a hard stop) so the whole run stays
near ten minutes on two cores; nothing is sent anywhere but 127.0.0.1. Docs: docs/SECURITY.md.

Reports (JSON and HTML, gunicorn logs, summary.md) go to security-reports/<UTC time>/, with
security-reports/latest pointing at the last run. Prints the findings per module and severity,
stops everything it started and exits 1 when a finding is high or critical.

Tuning (environment): SCAN_PORT (8775), SCAN_CRAWL_SECONDS (40) and SCAN_ATTACK_SECONDS (25, per
attack module) for each of the two scans, SCAN_ONLY=anonymous|applicant.
"""

from __future__ import annotations

import contextlib
import http.cookiejar
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import engines  # scripts/engines.py, next to this file

ROOT = engines.ROOT
REPORTS_DIR = ROOT / "security-reports"
PORT = int(os.environ.get("SCAN_PORT", "8775"))
BASE_URL = f"http://127.0.0.1:{PORT}/"
CRAWL_SECONDS = int(os.environ.get("SCAN_CRAWL_SECONDS", "40"))
ATTACK_SECONDS = int(os.environ.get("SCAN_ATTACK_SECONDS", "25"))
SCAN_DATABASE = "ptce_scan"
SCAN_REDIS_DB = "9"
DEMO_LOGIN = "porteur@demo.ptce.fr"
DEMO_PASSWORD = "demo-ptce-2013"
USER_AGENT = "ptce-security-scan (wapiti)"

# wapiti's default ("common") modules but ssrf, whose probe needs wapiti's server on the Internet,
# and blindsql (time-based: minutes of sleeps, mostly behind password hashing, for an ORM-only
# code base that the error-based sql module already probes), plus two cheap ones: forms without
# a CSRF token, unusual HTTP methods.
MODULES = "common,-ssrf,-blindsql,csrf,methods"
# The hard bound of one scan: crawl, then up to this many modules using their whole time, + 60 s.
BOUND_MODULES = 8
# Not crawled (wapiti submits every form it finds, with default values, while crawling): what
# would end or change the applicant's session, and the one-click removals (withdraw the dossier,
# delete an organisation or an attachment), which would leave little to attack afterwards.
NOT_CRAWLED = [
    "accounts/logout/*",
    "admin/logout/*",
    "accounts/password/change/*",
    "accounts/password/set/*",
    "accounts/email/*",
    "accounts/2fa/*",
    "accounts/reauthenticate/*",
    "accounts/sessions/*",
    "*/retirer/",
    "*/supprimer/",
]

# Report categories (wapiti 3.0.x) and the modules that raise them.
CATEGORY_MODULES = {
    "Blind SQL Injection": "blindsql",
    "SQL Injection": "sql",
    "Cross Site Scripting": "xss, permanentxss",
    "Command execution": "exec",
    "Path Traversal": "file",
    "Open Redirect": "redirect",
    "Server Side Request Forgery": "ssrf",
    "Content Security Policy Configuration": "csp",
    "HTTP Secure Headers": "http_headers",
    "HttpOnly Flag cookie": "cookieflags",
    "Secure Flag cookie": "cookieflags",
    "Cross Site Request Forgery": "csrf",
    "CRLF Injection": "crlf",
    "Htaccess Bypass": "htaccess",
    "Backup file": "backup",
    "Potentially dangerous file": "nikto",
    "XML External Entity": "xxe",
    "Internal Server Error": "any (HTTP 500)",
    "Resource consumption": "any (time-out)",
    "Fingerprint web technology": "wapp",
}
# Scans stopped at their time bound (their report holds what was found until then).
PARTIAL: list[str] = []
LEVELS = {0: "info", 1: "low", 2: "medium", 3: "high", 4: "critical"}


def log(message: str) -> None:
    print(f"[scan {datetime.now(UTC):%H:%M:%S}] {message}", flush=True)


# --- wapiti -----------------------------------------------------------------------------------


def ensure_wapiti() -> str:
    found = shutil.which("wapiti")
    if found:
        return found
    log("wapiti absent : installation du paquet Debian (apt-get install wapiti)")
    prefix = [] if os.geteuid() == 0 else ["sudo"]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    install = [*prefix, "apt-get", "install", "-y", "--no-install-recommends", "wapiti"]
    if subprocess.run(install, env=env).returncode != 0:
        subprocess.run([*prefix, "apt-get", "update"], env=env, check=True)
        subprocess.run(install, env=env, check=True)
    found = shutil.which("wapiti")
    if not found:
        sys.exit("wapiti is still missing after apt-get install")
    return found


# Runs wapiti's own entry point after two fixes for wapiti 3.0.4 (Debian bookworm):
# - it compiles its --exclude wildcards with the inline flags at the end, which Python 3.11
#   rejects, so any --exclude crashes the crawl; the replacement keeps the meaning;
# - it sends the text fields of a multipart form as files, so Django finds no CSRF token in the
#   upload form and wapiti only ever meets a 403; text fields go as fields again.
LAUNCHER = r"""
import re, sys
from importlib.metadata import entry_points
import requests

_request = requests.Session.request
def request(self, method, url, *args, files=None, **kwargs):
    if files:
        files = [(name, (None, value) if isinstance(value, str) else value) for name, value in files]
    return _request(self, method, url, *args, files=files, **kwargs)
requests.Session.request = request
try:
    import wapitiCore.net.crawler as crawler
except ImportError:
    crawler = None
if crawler is not None and hasattr(crawler, "wildcard_translate"):
    def wildcard_translate(pattern):
        return re.compile("(?ms)" + ".*".join(re.escape(part) for part in pattern.split("*")) + r"\Z")
    crawler.wildcard_translate = wildcard_translate
sys.argv[0] = "wapiti"
main = next(ep for ep in entry_points(group="console_scripts") if ep.name == "wapiti").load()
sys.exit(main())
"""


def wapiti_command(wapiti: str) -> list[str]:
    """The interpreter of the wapiti script (its shebang) running LAUNCHER."""
    with open(wapiti, "rb") as script:
        shebang = script.readline().decode(errors="replace")
    interpreter = shebang[2:].strip().split() if shebang.startswith("#!") else ["python3"]
    return [*interpreter, "-c", LAUNCHER]


def wapiti_version(wapiti: str) -> str:
    out = subprocess.run([wapiti, "--version"], capture_output=True, text=True).stdout
    match = re.search(r"Wapiti[- ]([\d.]+)", out)
    return match.group(1) if match else "unknown"


def run_wapiti(wapiti: str, name: str, out_dir: Path, work: Path, cookie_file: Path | None) -> Path:
    """One bounded scan; returns the JSON report (the HTML one is rebuilt from the same session)."""
    session = work / f"wapiti-{name}"
    config = work / "wapiti-config"
    config.mkdir(exist_ok=True)
    # An empty technology database: otherwise wapiti downloads one from GitHub at start-up.
    (config / "apps.json").write_text("{}")
    common = [
        *wapiti_command(wapiti),
        "--url",
        BASE_URL,
        "--scope",
        "folder",
        "--store-session",
        str(session),
        "--store-config",
        str(config),
        "--no-bugreport",
        "--user-agent",
        USER_AGENT,
        "--verbose",
        "1",
    ]
    if cookie_file is not None:
        common += ["--cookie", str(cookie_file)]
    starts = (
        ["tableau-de-bord/"]
        if cookie_file
        else [
            "accounts/login/",
            "accounts/signup/",
            "accounts/password/reset/",
            "resultats/ptce-2013/",
            "resultats/ptce-2013/donnees/",
            "admin/login/",
        ]
    )
    crawl = [
        *common,
        *[arg for path in starts for arg in ("--start", BASE_URL + path)],
        *[arg for path in NOT_CRAWLED for arg in ("--exclude", BASE_URL + path)],
        "--module",
        MODULES,
        "--depth",
        "6",
        "--max-links-per-page",
        "60",
        "--max-files-per-dir",
        "40",
        # The budget form (43 amount fields) alone would take an xss pass of several minutes:
        # wapiti checks --max-attack-time only between two forms. It is left out of the attacks.
        "--max-parameters",
        "30",
        "--max-scan-time",
        str(CRAWL_SECONDS),
        "--max-attack-time",
        str(ATTACK_SECONDS),
        "--timeout",
        "8",
        "--format",
        "json",
        "--output",
        str(out_dir / f"{name}.json"),
    ]
    log(f"wapiti, scan « {name} » (exploration ≤ {CRAWL_SECONDS} s, ≤ {ATTACK_SECONDS} s par module)")
    bound = CRAWL_SECONDS + BOUND_MODULES * ATTACK_SECONDS + 60
    log_path = out_dir / f"{name}-wapiti.log"
    report = out_dir / f"{name}.json"
    if not _run_bounded(crawl, log_path, work, bound):
        PARTIAL.append(name)
    # Same session, no crawl, no module: writes the stored findings again, as HTML (and as JSON
    # when the scan was stopped at its bound before writing its own report).
    stored = [*common, "--skip-crawl", "--module", ""]
    if not report.exists():
        _run_bounded([*stored, "--format", "json", "--output", str(report)], log_path, work, 180)
    _run_bounded([*stored, "--format", "html", "--output", str(out_dir / f"{name}-html")], log_path, work, 180)
    return report


def _run_bounded(command: list[str], log_path: Path, work: Path, seconds: float) -> bool:
    """Run wapiti; past `seconds`, stop it. True when it ended by itself."""
    # Interrupted, wapiti asks on stdin what to do; "q" makes it quit cleanly (its session, where
    # every finding is stored as soon as found, stays readable for the report pass).
    answers = work / "wapiti-answers"
    answers.write_text("q\n" * 20)
    with open(log_path, "a") as out, open(answers) as stdin:
        # Nothing leaves loopback: any other address goes to a proxy that does not exist.
        env = dict(os.environ, no_proxy="127.0.0.1,localhost", NO_PROXY="127.0.0.1,localhost")
        for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
            env[var] = "http://127.0.0.1:9"
        process = subprocess.Popen(command, stdin=stdin, stdout=out, stderr=subprocess.STDOUT, cwd=work, env=env)
        try:
            process.wait(timeout=seconds)
            return True
        except subprocess.TimeoutExpired:
            log(f"wapiti dépasse {seconds:.0f} s : arrêt, rapport des constats enregistrés jusque-là")
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            return False
        except BaseException:
            process.kill()
            process.wait()
            raise


# --- the portal -------------------------------------------------------------------------------


def scan_database_url(url: str) -> str:
    """Point DATABASE_URL's server at a fresh `ptce_scan` database (dropped and created again)."""
    import psycopg

    parts = urllib.parse.urlsplit(url)
    query = dict(urllib.parse.parse_qsl(parts.query))
    params = {
        "dbname": "postgres",
        "user": urllib.parse.unquote(parts.username or "") or None,
        "password": urllib.parse.unquote(parts.password or "") or None,
        "host": query.get("host") or parts.hostname,
        "port": parts.port,
    }
    with contextlib.closing(psycopg.connect(**{k: v for k, v in params.items() if v})) as conn:
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{SCAN_DATABASE}" WITH (FORCE)')
            cursor.execute(f'CREATE DATABASE "{SCAN_DATABASE}"')
    return parts._replace(path="/" + SCAN_DATABASE).geturl()


def portal_env(env: dict[str, str], work: Path) -> dict[str, str]:
    env = dict(env)
    env.update(
        DEBUG="false",
        HTTPS="false",  # loopback has no TLS; secure cookies and HSTS would break the scan
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1",
        SITE_URL=BASE_URL.rstrip("/"),
        STATIC_MANIFEST="true",
        STATIC_ROOT=str(work / "static"),
        PTCE_DATA_DIR=str(work / "data"),
        MEDIA_ROOT=str(work / "data" / "media"),
        EMAIL_URL=f"filemail:///{work / 'data' / 'mail'}",
        CACHE_KEY_PREFIX=f"scan-{secrets.token_hex(4)}",  # fresh rate-limit counters
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    return env


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


@contextlib.contextmanager
def gunicorn(env: dict[str, str], out_dir: Path):
    with contextlib.closing(socket.socket()) as probe:
        if probe.connect_ex(("127.0.0.1", PORT)) == 0:
            sys.exit(f"port {PORT} already in use on 127.0.0.1 (SCAN_PORT to pick another)")
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "ptce_portal.wsgi",
        "--bind",
        f"127.0.0.1:{PORT}",
        "--workers",
        "2",
        "--timeout",
        "60",
        "--access-logfile",
        str(out_dir / "gunicorn-access.log"),
        "--error-logfile",
        str(out_dir / "gunicorn.log"),
        "--capture-output",
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                sys.exit(f"gunicorn exited with status {process.returncode}: see {out_dir / 'gunicorn.log'}")
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(BASE_URL + "accounts/login/", timeout=5) as answer,
            ):
                if answer.status == 200:
                    break
            if time.monotonic() > deadline:
                sys.exit("the portal did not answer within 60 s")
            time.sleep(0.5)
        log(f"portail prêt : {BASE_URL} (gunicorn, DEBUG=false)")
        yield
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        log("gunicorn arrêté")


def log_in(login: str, password: str) -> http.cookiejar.CookieJar:
    """Log in through allauth's form (with its CSRF token) and return the cookies."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    login_url = BASE_URL + "accounts/login/"
    with opener.open(login_url, timeout=20) as response:
        page = response.read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if token is None:
        sys.exit("no CSRF token in the log-in form")
    data = urllib.parse.urlencode({"csrfmiddlewaretoken": token.group(1), "login": login, "password": password})
    request = urllib.request.Request(login_url, data=data.encode(), headers={"Referer": login_url})
    with opener.open(request, timeout=20):
        pass
    if not session_alive(jar):
        sys.exit(f"log-in as {login} failed (no session reaching /tableau-de-bord/)")
    return jar


def session_alive(jar: http.cookiejar.CookieJar) -> bool:
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    try:
        with opener.open(BASE_URL + "tableau-de-bord/", timeout=20) as response:
            return response.status == 200 and "/accounts/login/" not in response.url
    except urllib.error.URLError:
        return False


def write_cookie_file(jar: http.cookiejar.CookieJar, path: Path) -> None:
    """wapiti's JSON cookie file: {domain: {path: {name: attributes}}}."""
    cookies: dict = {}
    for cookie in jar:
        cookies.setdefault(cookie.domain, {}).setdefault(cookie.path, {})[cookie.name] = {
            "value": cookie.value,
            "expires": cookie.expires,
            "secure": cookie.secure,
            "port": None,
            "version": 0,
        }
    path.write_text(json.dumps(cookies, indent=2))


# --- summary ----------------------------------------------------------------------------------


def summarise(reports: dict[str, Path], extra: list[str]) -> tuple[str, int]:
    rows = []
    serious = 0
    for scan, report in reports.items():
        if not report.exists():
            rows.append(f"| {scan} | — | no report written | — | — |")
            continue
        data = json.loads(report.read_text())
        for kind in ("vulnerabilities", "anomalies"):
            counts = Counter()
            for category, findings in data.get(kind, {}).items():
                for finding in findings:
                    counts[(category, int(finding.get("level") or 0))] += 1
            for (category, level), count in sorted(counts.items(), key=lambda item: (-item[0][1], item[0][0])):
                module = CATEGORY_MODULES.get(category, "?")
                label = "vulnerability" if kind == "vulnerabilities" else "anomaly"
                rows.append(f"| {scan} | {label} | {category} ({module}) | {LEVELS.get(level, level)} | {count} |")
                if kind == "vulnerabilities" and level >= 3:
                    serious += count
        if not any(row.startswith(f"| {scan} |") for row in rows):
            rows.append(f"| {scan} | — | no finding | — | 0 |")
    table = ["| scan | kind | category (module) | severity | count |", "| --- | --- | --- | --- | ---: |", *rows]
    text = "\n".join([*table, "", *extra])
    return text, serious


def recheck_csrf(report: Path, jar: http.cookiejar.CookieJar | None) -> tuple[int, int]:
    """Replay each form wapiti's csrf module flagged with a wrong token: Django must answer 403.

    wapiti 3.0.4 looks for token fields by name and does not know Django's `csrfmiddlewaretoken`,
    so it reports every Django form as lacking a token; this tells a real gap from that.
    """
    if not report.exists():
        return 0, 0
    findings = json.loads(report.read_text()).get("vulnerabilities", {}).get("Cross Site Request Forgery", [])
    if jar is None:  # anonymous: a fresh CSRF cookie, as a browser would have
        jar = http.cookiejar.CookieJar()
        urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar)).open(BASE_URL + "accounts/login/").close()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    refused = 0
    paths = sorted({finding["path"] for finding in findings if finding["method"] == "POST"})
    for path in paths:
        body = urllib.parse.urlencode({"csrfmiddlewaretoken": "wapiti"}).encode()
        try:
            with opener.open(urllib.request.Request(BASE_URL.rstrip("/") + path, data=body), timeout=20) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        if status == 403:
            refused += 1
        else:
            log(f"CSRF : {path} répond {status} à un jeton faux")
    return refused, len(paths)


def count_5xx(access_log: Path) -> Counter:
    """HTTP 5xx answers to wapiti (its user agent): not to anything else that found the port."""
    counts: Counter = Counter()
    if access_log.exists():
        for line in access_log.read_text(errors="replace").splitlines():
            match = re.search(r'"(\w+) ([^ ]+) HTTP/[\d.]+" (5\d\d) ', line)
            if match and USER_AGENT in line:
                counts[f"{match.group(3)} {match.group(1)} {match.group(2).split('?')[0]}"] += 1
    return counts


# --- main -------------------------------------------------------------------------------------


def main() -> int:
    started = time.monotonic()
    wapiti = ensure_wapiti()
    version = wapiti_version(wapiti)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out_dir = REPORTS_DIR / stamp
    work = REPORTS_DIR / ".work"
    shutil.rmtree(work, ignore_errors=True)
    out_dir.mkdir(parents=True)
    work.mkdir(parents=True)
    only = os.environ.get("SCAN_ONLY", "")
    log(f"wapiti {version}, rapports dans {out_dir.relative_to(ROOT)}")

    # Its own database and Redis: DATABASE_URL's server with a fresh `ptce_scan`, Redis db 9, or
    # embedded engines in the throw-away folder.
    engines.DATA_DIR = work / "engines"
    saved = {key: os.environ.get(key) for key in ("DATABASE_URL", "REDIS_URL")}
    if os.environ.get("DATABASE_URL"):
        os.environ["DATABASE_URL"] = scan_database_url(os.environ["DATABASE_URL"])
        log(f"base {SCAN_DATABASE} recréée sur le serveur de DATABASE_URL")
    if os.environ.get("REDIS_URL"):
        os.environ["REDIS_DB"] = SCAN_REDIS_DB
    reports: dict[str, Path] = {}
    extra: list[str] = []
    try:
        with engines.engines() as base_env:
            env = portal_env(base_env, work)
            log("migrate, load_demo, collectstatic")
            manage(env, "migrate", "--noinput", "-v", "0")
            manage(env, "load_demo")
            manage(env, "collectstatic", "--noinput", "-v", "0")
            # The scan runs without TLS; the same settings with HTTPS on must pass the deploy checks
            # (HSTS, secure cookies, redirect): what wapiti reports missing over plain HTTP.
            deploy = subprocess.run(
                [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                cwd=ROOT,
                env=dict(env, HTTPS="true"),
                capture_output=True,
                text=True,
            )
            (out_dir / "check-deploy.txt").write_text(deploy.stdout + deploy.stderr)
            extra.append(
                "manage.py check --deploy --fail-level WARNING with HTTPS=true: "
                + ("passed." if deploy.returncode == 0 else "FAILED (see check-deploy.txt).")
            )
            with gunicorn(env, out_dir):
                jar = log_in(DEMO_LOGIN, DEMO_PASSWORD)  # before the anonymous scan trips any rate limit
                cookie_file = work / "applicant-cookies.json"
                write_cookie_file(jar, cookie_file)
                if only in ("", "anonymous"):
                    reports["anonymous"] = run_wapiti(wapiti, "anonymous", out_dir, work, None)
                if only in ("", "applicant"):
                    log(f"session de {DEMO_LOGIN} ouverte par le formulaire de connexion")
                    reports["applicant"] = run_wapiti(wapiti, "applicant", out_dir, work, cookie_file)
                    alive = session_alive(jar)
                    extra.append(f"Applicant session still valid after its scan: {'yes' if alive else 'NO'}.")
                for scan, report in reports.items():
                    refused, flagged = recheck_csrf(report, jar if scan == "applicant" else None)
                    if flagged:
                        extra.append(
                            f"CSRF re-check ({scan}): {refused} of {flagged} flagged forms refuse a wrong token "
                            "with 403 (wapiti does not know Django's token field name)."
                        )
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        shutil.rmtree(work, ignore_errors=True)

    errors = count_5xx(out_dir / "gunicorn-access.log")
    if PARTIAL:
        extra.append(f"Stopped at their time bound (partial): {', '.join(PARTIAL)}.")
    extra.append(f"HTTP 5xx answers to wapiti: {sum(errors.values())}.")
    extra += [f"- {count} × {what}" for what, count in errors.most_common(15)]
    minutes = (time.monotonic() - started) / 60
    extra.append(f"wapiti {version}, modules {MODULES}; total time {minutes:.1f} min; run {stamp}.")
    text, serious = summarise(reports, extra)
    (out_dir / "summary.md").write_text(f"# Security scan {stamp}\n\n{text}\n")
    latest = REPORTS_DIR / "latest"
    if latest.is_symlink() or latest.exists():
        latest.unlink()
    latest.symlink_to(stamp)
    print()
    print(text)
    print(f"\nRapports : {out_dir.relative_to(ROOT)}/ (JSON, HTML, journaux gunicorn)")
    if serious:
        print(f"{serious} vulnérabilité(s) de gravité haute ou critique.")
    return 1 if serious else 0


if __name__ == "__main__":
    sys.exit(main())
