"""Locust file of the deadline-rush benchmark (run by `python -m bench.rush`, not by hand).

Applicants as the browser drives them:
- EditorUser: opens a section (GET), then autosaves it every 30 s as static/js/autosave.js does
  (multipart FormData of the whole form, X-Autosave and X-CSRFToken headers, `_version` taken from
  the previous save's JSON answer); moves to another text section every SAVES_PER_SECTION saves.
- SubmitterUser: for a fresh prepared dossier each time (its owner's session): the attachments
  page, upload of a 2 MB PDF, the page it redirects to, the submission, the receipt page.
- CalibrationUser: /bench/calibration/ at a fixed low rate, whatever the load.

StepShape runs phases of PHASE_SECONDS at 1x, 2x, 3x... the base rush (300 editors saving every
30 s, 0.5 submission/s = 300 in 10 minutes) and stops after the first phase where a request failed,
the server was saturated (calibration p95 above SATURATION times the idle one) or, unless
BENCH_RUSH_STOP_ON_RATIO=0, a step's p95 was above TARGET times the calibration p95; and after
MAX_FACTOR or MAX_REQUESTS.
Every request is written to BENCH_RUSH_SAMPLES (JSON lines) with its phase; bench.rush computes the
figures from that file.
"""

from __future__ import annotations

import html.parser
import itertools
import json
import os
import random
import re
import time
import uuid
from http.cookiejar import Cookie
from pathlib import Path

from locust import LoadTestShape, constant_pacing, events, task
from locust.contrib.fasthttp import FastHttpUser
from locust.exception import StopUser

from bench.rush.config import p95
from demo.pdfbytes import assemble_pdf

DATA = json.loads(Path(os.environ["BENCH_RUSH_PEOPLE"]).read_text(encoding="utf-8"))
SAMPLES = os.environ["BENCH_RUSH_SAMPLES"]
SCALE = float(os.environ.get("BENCH_RUSH_SCALE", "1"))  # < 1 only to validate the harness quickly
PHASE_SECONDS = int(os.environ.get("BENCH_RUSH_PHASE_SECONDS", "75"))
WARMUP_SECONDS = int(os.environ.get("BENCH_RUSH_WARMUP_SECONDS", "10"))
MAX_FACTOR = int(os.environ.get("BENCH_RUSH_MAX_FACTOR", "6"))
MAX_REQUESTS = int(os.environ.get("BENCH_RUSH_MAX_REQUESTS", "200000"))
TARGET = 3.0
# Calibration p95 of the idle server (measured by bench.rush.run just before): a phase where it
# grows past SATURATION times that is saturated (everything queues); the run stops there.
IDLE_CALIBRATION_MS = float(os.environ.get("BENCH_RUSH_IDLE_CALIBRATION_MS", "0"))
SATURATION = 10.0
# 0: go on past a phase that misses the ratio target (to see where saturation starts).
STOP_ON_RATIO = os.environ.get("BENCH_RUSH_STOP_ON_RATIO", "1") == "1"

BASE_EDITORS = 300
SAVE_EVERY = 30.0
SAVES_PER_SECTION = 3
SUBMITTERS_PER_FACTOR = 5  # each paced at one submission per SUBMIT_EVERY seconds
SUBMIT_EVERY = 10.0  # 5 users / 10 s = 0.5 submission/s = 300 in 10 minutes
CALIBRATION_USERS, CALIBRATION_EVERY = 2, 0.5  # 4 requests/s at every load
TEXT_SECTIONS = [
    "resume",
    "mutualisation",
    "innovation-sociale",
    "territoire",
    "emplois",
    "transition-ecologique",
    "gouvernance",
]
CALIBRATION = "calibration"


def _pdf_of(size: int) -> bytes:
    """A valid one-page PDF padded to `size` bytes by a stream object nobody references (text, so
    it never looks like a ZIP archive to the polyglot check)."""
    rng = random.Random(2013)
    filler = "".join(f"{rng.getrandbits(64):016x}\n" for _ in range(size // 17 + 1)).encode()[: size - 700]
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        b"<< /Length 0 >>\nstream\n\nendstream",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(filler), filler),
    ]
    return assemble_pdf(objects)


PDF = _pdf_of(2 * 1024 * 1024)


def multipart(fields: list[tuple[str, str]], files: list[tuple[str, str, str, bytes]] = ()) -> tuple[bytes, str]:
    """The body a browser sends for a FormData (fields, then files), and its Content-Type."""
    boundary = f"----ptcebench{uuid.uuid4().hex}"
    parts = []
    for name, value in fields:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, filename, content_type, content in files:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n".encode()
            + content
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


class FormData(html.parser.HTMLParser):
    """What `new FormData(form)` holds for the first <form method=post> of a page whose attributes
    contain `marker` (the section form carries data-autosave-url, the upload form its enctype)."""

    def __init__(self, marker: str):
        super().__init__(convert_charrefs=True)
        self.marker = marker
        self.fields: list[list[str]] = []
        self.textareas: list[str] = []
        self.options: dict[str, list[str]] = {}
        self._in_form = self._done = False
        self._textarea: list | None = None
        self._select: str | None = None
        self._select_first: list | None = None
        self._multiple = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if (
            tag == "form"
            and not self._done
            and (attrs.get("method") or "").lower() == "post"
            and any(self.marker in f"{key}={value}" for key, value in attrs.items())
        ):
            self._in_form = True
        if not self._in_form:
            return
        name = attrs.get("name")
        if tag == "input" and name and "disabled" not in attrs:
            kind = (attrs.get("type") or "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    self.fields.append([name, attrs.get("value", "on")])
            elif kind not in ("file", "submit", "button", "image", "reset"):
                self.fields.append([name, attrs.get("value") or ""])
        elif tag == "textarea" and name:
            self._textarea = [name, ""]
            self.fields.append(self._textarea)
            self.textareas.append(name)
        elif tag == "select" and name:
            self._select, self._select_first = name, None
            self._multiple = "multiple" in attrs
            self.options[name] = []
        elif tag == "option" and self._select:
            value = attrs.get("value", "")
            self.options[self._select].append(value)
            if "selected" in attrs:
                self.fields.append([self._select, value])
                self._select_first = False

    def handle_endtag(self, tag):
        if tag == "form" and self._in_form:
            self._in_form, self._done = False, True
        elif tag == "textarea":
            self._textarea = None
        elif tag == "select" and self._select:
            if self._select_first is None and self.options[self._select] and not self._multiple:
                self.fields.append([self._select, self.options[self._select][0]])
            self._select = None

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    @classmethod
    def of(cls, page: str, marker: str) -> FormData:
        parser = cls(marker)
        parser.feed(page)
        if not parser._done:
            raise LookupError(f"no form marked {marker!r} in the page")
        return parser

    def get(self, name: str) -> str:
        return next((value for key, value in self.fields if key == name), "")


def every(period: float):
    """One task start per `period` seconds from the user's own first task (Locust's constant_pacing
    counts from the user's creation, which would align every user that slept in on_start)."""

    def wait_time(user) -> float:
        return max(0.0, user.task_started + period - time.monotonic())

    return wait_time


def _cookie(name: str, value: str) -> Cookie:
    return Cookie(0, name, value, None, False, "127.0.0.1", False, False, "/", True, False, None, False, None, None, {})


class Applicant(FastHttpUser):
    abstract = True

    def sign_in_as(self, session: str) -> None:
        """A browser of this applicant: only their session cookie, nothing else."""
        self.client.cookiejar.clear()
        self.client.cookiejar.set_cookie(_cookie("sessionid", session))

    def get_page(self, url: str, name: str) -> str | None:
        with self.client.get(url, name=name, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
                return None
            return response.text


class EditorUser(Applicant):
    weight = BASE_EDITORS // SUBMITTERS_PER_FACTOR
    wait_time = every(SAVE_EVERY)
    _people = None

    def on_start(self):
        if EditorUser._people is None:
            EditorUser._people = iter(DATA["editors"])
        person = next(EditorUser._people, None)
        if person is None:
            raise StopUser("no prepared editor left")
        self.dossier = person["dossier"]
        self.sign_in_as(person["session"])
        self.sections = itertools.cycle(random.sample(TEXT_SECTIONS, len(TEXT_SECTIONS)))
        self.form = None
        self.saves = 0
        # Editors join a phase at random moments of a saving period: a steady rate from the start.
        time.sleep(random.uniform(0, SAVE_EVERY))

    def open_section(self) -> None:
        self.url = f"/dossiers/{self.dossier}/rubriques/{next(self.sections)}/"
        page = self.get_page(self.url, "section: open (GET)")
        self.form = FormData.of(page, "data-autosave-url") if page else None

    @task
    def autosave(self):
        self.task_started = time.monotonic()
        if self.form is None or self.saves % SAVES_PER_SECTION == 0:
            self.open_section()
            if self.form is None:
                return
        self.saves += 1
        fields = self.form.fields
        typed = self.form.textareas[0]
        stamp = f" (modifié {self.saves})"
        values = [
            [name, re.sub(r" \(modifié \d+\)$", "", value) + stamp if name == typed else value]
            for name, value in fields
        ]
        body, content_type = multipart([(name, value) for name, value in values])
        headers = {
            "Content-Type": content_type,
            "X-Autosave": "1",
            "X-CSRFToken": self.form.get("csrfmiddlewaretoken"),
        }
        with self.client.post(
            self.url, data=body, headers=headers, name="section: autosave (POST)", catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}: {response.text[:200]}")
                self.form = None
                return
            version = str(response.json()["version"])
            for field in fields:
                if field[0] == "_version":
                    field[1] = version


class SubmitterUser(Applicant):
    weight = 1
    wait_time = every(SUBMIT_EVERY)
    _people = None

    def on_start(self):
        time.sleep(random.uniform(0, SUBMIT_EVERY))

    @task
    def submit(self):
        self.task_started = time.monotonic()
        if SubmitterUser._people is None:
            SubmitterUser._people = iter(DATA["submitters"])
        person = next(SubmitterUser._people, None)
        if person is None:
            raise StopUser("no prepared dossier left to submit")
        self.sign_in_as(person["session"])
        dossier = person["dossier"]
        pieces = f"/dossiers/{dossier}/pieces/"
        page = self.get_page(pieces, "attachments: list (GET)")
        if page is None:
            return
        form = FormData.of(page, "multipart/form-data")
        kinds = [value for value in form.options.get("attachment_type", []) if value]
        body, content_type = multipart(
            [("csrfmiddlewaretoken", form.get("csrfmiddlewaretoken")), ("attachment_type", kinds[0])],
            [("file", "budget-previsionnel.pdf", "application/pdf", PDF)],
        )
        with self.client.post(
            pieces,
            data=body,
            headers={"Content-Type": content_type},
            name="attachments: upload 2 MB PDF (POST)",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"HTTP {response.status_code} (a refused upload answers 200 with the form)")
                return
        page = self.get_page(pieces, "attachments: list (GET)")
        if page is None or "a été déposée" not in page:
            return
        token = FormData.of(page, "multipart/form-data").get("csrfmiddlewaretoken")
        body, content_type = multipart([("csrfmiddlewaretoken", token)])
        with self.client.post(
            f"/dossiers/{dossier}/deposer/",
            data=body,
            headers={"Content-Type": content_type},
            name="submit (POST)",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            location = response.headers.get("Location", "") if response.status_code == 302 else ""
            if "/versions/" not in location:
                response.failure(f"HTTP {response.status_code}, refused (to {location or 'nowhere'})")
                return
        self.get_page(location, "receipt page (GET)")


class CalibrationUser(Applicant):
    fixed_count = CALIBRATION_USERS
    wait_time = constant_pacing(CALIBRATION_EVERY)

    def on_start(self):
        self.sign_in_as(DATA["calibration"]["session"])
        self.url = f"/bench/calibration/?call={DATA['call']}"

    @task
    def calibration(self):
        self.get_page(self.url, CALIBRATION)


# --- Phases, samples and the stopping rule ---

_samples: list[tuple] = []


@events.request.add_listener
def _record(request_type, name, response_time, response_length, exception, **kwargs):
    _samples.append((time.time(), StepShape.phase, name, response_time, exception is not None))


@events.user_error.add_listener
def _record_error(user_instance, exception, tb, **kwargs):
    # An exception in a task (an unexpected page) is an error of the run, like a failed request.
    _samples.append((time.time(), StepShape.phase, f"task error: {type(exception).__name__}", 0.0, True))


@events.quitting.add_listener
def _write_samples(environment, **kwargs):
    with open(SAMPLES, "w", encoding="utf-8") as out:
        for sample in _samples:
            out.write(json.dumps(sample) + "\n")


def phase_verdict(phase: int, started_at: float) -> tuple[bool, str]:
    """Whether a finished phase met the target (every step's p95 <= TARGET x calibration, no error)."""
    rows = [s for s in _samples if s[1] == phase and s[0] >= started_at + WARMUP_SECONDS]
    failures = sum(1 for s in rows if s[4])
    by_name: dict[str, list[float]] = {}
    for s in rows:
        by_name.setdefault(s[2], []).append(s[3])
    if CALIBRATION not in by_name:
        return False, "no calibration sample"
    base = p95(by_name.pop(CALIBRATION))
    ratios = {name: p95(times) / base for name, times in by_name.items()}
    worst = max(ratios.items(), key=lambda item: item[1], default=("-", 0.0))
    unsaturated = not IDLE_CALIBRATION_MS or base <= SATURATION * IDLE_CALIBRATION_MS
    ok = failures == 0 and (worst[1] <= TARGET or not STOP_ON_RATIO) and unsaturated
    return ok, (
        f"failures={failures}, worst {worst[0]} {worst[1]:.2f}x, calibration p95 {base:.0f} ms"
        f"{'' if unsaturated else ' (saturated)'}"
    )


class StepShape(LoadTestShape):
    phase = 0  # the factor being played; 0 before the first tick
    _phase_started = 0.0

    def tick(self):
        run_time = self.get_run_time()
        factor = int(run_time // PHASE_SECONDS) + 1
        if factor != StepShape.phase:
            if StepShape.phase:
                ok, why = phase_verdict(StepShape.phase, StepShape._phase_started)
                print(f"[rush] phase x{StepShape.phase} done: {'met' if ok else 'MISSED'} ({why})", flush=True)
                if not ok or factor > MAX_FACTOR:
                    return None
            if len(_samples) > MAX_REQUESTS:
                print("[rush] request budget spent: stop", flush=True)
                return None
            StepShape.phase, StepShape._phase_started = factor, time.time()
            print(f"[rush] phase x{factor} starts", flush=True)
        applicants = round((BASE_EDITORS + SUBMITTERS_PER_FACTOR) * factor * SCALE)
        return applicants + CALIBRATION_USERS, 100
