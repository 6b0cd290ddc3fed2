"""PDF rendering against hostile input: what an applicant types stays text, nothing is fetched.

A loopback HTTP listener started here counts every request, and an audit hook records every file
the Python process opens and every socket it connects while a PDF renders. Control tests render
the same payloads with WeasyPrint's default fetcher, to prove that both instruments do see a
fetch when one happens.
"""

from __future__ import annotations

import io
import sys
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.conf import settings
from pypdf import PdfReader
from weasyprint import HTML
from weasyprint.urls import URLFetcher

from applications import pdf as pdf_module
from applications.documents import render_submission_pdf
from applications.models import Submission
from applications.pdf import PdfTooLarge, render_pdf
from applications.tasks import render_submission_pdf_task
from ptce_portal.celery import app as celery_app

from .pdfs import compact, pdf_text
from .snapshots import build_snapshot_content, create_submission

# --- Instruments ---


class Listener:
    """A tiny HTTP server on a loopback port that counts the requests it receives."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        hits = self.hits

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                hits.append(self.path)
                body = b"body { color: red }"
                self.send_response(200)
                self.send_header("Content-Type", "text/css")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_GET

            def log_message(self, *args):
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Listener:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def listener():
    with Listener() as running:
        yield running


class _Recorder:
    """Process-wide audit hook (it cannot be removed), active only inside `recording()`."""

    active = False
    thread_id = 0
    opened: list[str] = []
    connected: list[object] = []

    @classmethod
    def hook(cls, event: str, args: tuple) -> None:
        if not cls.active or threading.get_ident() != cls.thread_id:
            return
        if event == "open" and isinstance(args[0], str | bytes | Path):
            cls.opened.append(str(Path(args[0] if not isinstance(args[0], bytes) else args[0].decode()).resolve()))
        elif event == "socket.connect":
            cls.connected.append(args[1])


sys.addaudithook(_Recorder.hook)


@contextmanager
def recording():
    _Recorder.opened, _Recorder.connected = [], []
    _Recorder.thread_id, _Recorder.active = threading.get_ident(), True
    try:
        yield _Recorder
    finally:
        _Recorder.active = False


# What rendering may read: our templates and static files, our code (template tag libraries are
# imported on first use), and the code and data of Python and its libraries (WeasyPrint's own
# resources, locale files). Fonts are read by fontconfig, in C.
ALLOWED_ROOTS = [
    settings.BASE_DIR / "templates",
    settings.BASE_DIR / "static",
    Path(sys.prefix).resolve(),
    Path(sys.base_prefix).resolve(),
]


def outside_allowed(paths: list[str], also: list[Path] = ()) -> list[str]:
    roots = [*ALLOWED_ROOTS, *(Path(root).resolve() for root in also)]

    def allowed(path: Path) -> bool:
        code = path.suffix in (".py", ".pyc") and path.is_relative_to(settings.BASE_DIR)
        return code or any(path.is_relative_to(root) for root in roots)

    return sorted({path for path in paths if not allowed(Path(path))})


# --- The payloads ---


@pytest.fixture
def secret_file(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET-SHOULD-NEVER-APPEAR")
    return secret


def payloads(listener_url: str, secret: Path) -> list[str]:
    return [
        '<img src="file:///etc/passwd">',
        f'<img src="file://{secret}">',
        f'<img src="{listener_url}/img.png">',
        f'<style>@import url("{listener_url}/import.css");</style>',
        f"<style>@import '{listener_url}/import2.css';</style>",
        f'<div style="background: url({listener_url}/background.png)">fond</div>',
        f"<style>@font-face {{ font-family: x; src: url({listener_url}/font.woff) }}</style>",
        f'<link rel="stylesheet" href="{listener_url}/style.css">',
        f'<link rel="attachment" href="{listener_url}/attachment.bin">',
        f'<link rel=attachment href="file://{secret}">',
        f'<a rel="attachment" href="{listener_url}/anchor.bin">pièce</a>',
        f'<object data="{listener_url}/object.svg"></object>',
        f'<embed src="{listener_url}/embed.svg">',
        f'<iframe src="{listener_url}/iframe.html"></iframe>',
        f'<svg><image href="{listener_url}/svg.png"/></svg>',
        f"<script>fetch('{listener_url}/script')</script>",
    ]


def embedded_files(data: bytes) -> dict:
    return dict(PdfReader(io.BytesIO(data)).attachments)


def submission_with(text: str) -> Submission:
    content = build_snapshot_content()
    content["sections"][0]["fields"][0]["value"] = text
    return create_submission(content=content)


# --- Dossier text: escaped, inert, nothing fetched ---


def test_hostile_dossier_text_renders_as_literal_text_and_fetches_nothing(db, media, listener, secret_file):
    corpus = payloads(listener.url, secret_file)
    submission = submission_with("\n".join(corpus))

    with recording() as recorder:
        render_submission_pdf(submission)

    submission.refresh_from_db()
    with submission.pdf.open("rb") as handle:
        data = handle.read()
    text = compact(pdf_text(data))
    assert [payload for payload in corpus if compact(payload) not in text] == []
    assert "root:" not in text
    assert "SECRET-SHOULD-NEVER-APPEAR" not in text
    assert (listener.hits, recorder.connected, embedded_files(data)) == ([], [], {})
    assert outside_allowed(recorder.opened, also=[media]) == []  # media: where the PDF is stored
    assert str(secret_file) not in recorder.opened


# --- Raw markup (a template mistake, `|safe`): the fetcher is the second wall ---


def raw_html(corpus: list[str]) -> str:
    return '<html lang="fr"><head><title>t</title></head><body><p>Texte</p>' + "".join(corpus) + "</body></html>"


@pytest.fixture
def hostile_template(settings, listener, secret_file):
    html = raw_html(payloads(listener.url, secret_file))
    settings.TEMPLATES = [
        {
            "BACKEND": "django.template.backends.django.DjangoTemplates",
            "OPTIONS": {"loaders": [("django.template.loaders.locmem.Loader", {"hostile.html": html})]},
        }
    ]
    return html


def test_raw_hostile_markup_reaches_neither_the_network_nor_the_disk(hostile_template, listener, secret_file):
    with recording() as recorder:
        data = render_pdf("hostile.html", {})

    assert (listener.hits, recorder.connected, embedded_files(data)) == ([], [], {})
    assert outside_allowed(recorder.opened) == []
    assert "/etc/passwd" not in recorder.opened
    assert "SECRET-SHOULD-NEVER-APPEAR" not in pdf_text(data)


def test_control_the_instruments_see_fetches_of_an_unrestricted_renderer(hostile_template, listener, secret_file):
    # The same markup with WeasyPrint's default fetcher: the listener is hit, the secret file is
    # opened and attached. Without this, the zero counts above could come from blind instruments.
    with recording() as recorder:
        data = HTML(string=hostile_template, url_fetcher=URLFetcher(timeout=5)).write_pdf()

    assert len(listener.hits) >= 5
    assert str(secret_file) in recorder.opened
    assert ("127.0.0.1", listener.port) in recorder.connected
    assert embedded_files(data) != {}


# --- Limits: too big is refused, too long is stopped ---


def test_oversized_html_is_refused_before_weasyprint_runs(settings, monkeypatch):
    settings.TEMPLATES = [
        {
            "BACKEND": "django.template.backends.django.DjangoTemplates",
            "OPTIONS": {"loaders": [("django.template.loaders.locmem.Loader", {"big.html": "<p>{{ text }}</p>"})]},
        }
    ]
    monkeypatch.setattr(pdf_module, "PDF_MAX_HTML_BYTES", 10_000)
    started = []
    monkeypatch.setattr(pdf_module.HTML, "__init__", lambda *args, **kwargs: started.append(args))

    with pytest.raises(PdfTooLarge, match="10000"):
        render_pdf("big.html", {"text": "é" * 6_000})  # 12,000 bytes of UTF-8

    assert started == []


def test_html_limit_leaves_room_for_the_largest_dossier():
    # Every text field of a dossier is capped by its form (5,000 characters at most); the limit is
    # for runaway input (a template loop, thousands of organisations), not for honest dossiers.
    assert pdf_module.PDF_MAX_HTML_BYTES >= 5 * 1024 * 1024


def test_render_task_has_soft_and_hard_time_limits_within_the_broker_visibility():
    soft = render_submission_pdf_task.soft_time_limit or celery_app.conf.task_soft_time_limit
    hard = render_submission_pdf_task.time_limit or celery_app.conf.task_time_limit
    visibility = celery_app.conf.broker_transport_options["visibility_timeout"]

    assert (soft, hard) == (120, 180)
    assert soft < hard < visibility
