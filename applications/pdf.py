"""PDF rendering: the only module that imports WeasyPrint.

Templates are rendered to HTML by Django, then to an archival, tagged PDF. WeasyPrint may fetch
only `data:` URLs and the project's own static files, named `static:<path>` (in templates,
`<img src="static:img/...">`) and resolved by the staticfiles finders: dossier text is user
input, and a PDF worker must never read another file or reach the network. A refused URL is
logged by WeasyPrint and left out; a missing static file of ours stops the render.

Each thread renders with one font configuration and parses each stylesheet once, for all its
renders (a template names no stylesheet; its caller passes one): a fresh Fontconfig set-up and a
cold Pango font cache per document were a tenth of a render's time (docs/PERFORMANCE.md). So a
worker reads an edited stylesheet when it restarts, as it reads edited code.
"""

from __future__ import annotations

import io
import mimetypes
import threading
from importlib.resources import files
from pathlib import Path
from urllib.parse import unquote

from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils import translation
from weasyprint import CSS, HTML
from weasyprint.css import ColorProfile
from weasyprint.document import Document
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

STATIC_SCHEME = "static:"

# PDF/A-3u plus a structure tree (tags): PDF/A is the archival standard (fonts embedded, colour
# profile, XMP metadata, no external dependency), "u" guarantees every glyph maps to Unicode so
# the text stays searchable and extractable, and the tags give screen readers the reading order,
# headings and tables. We claim level "u" rather than "a" (pdf/a-3a) because WeasyPrint's tagging
# does not promise every level-A accessibility check; the tags are there all the same. A-3 rather
# than A-2 leaves room to embed the submitted JSON snapshot as an associated file later.
# PDF/UA-1 alone would be accessible but not archival.
PDF_OPTIONS = {"pdf_variant": "pdf/a-3u", "pdf_tags": True, "output_intent": "srgb-archive"}
# PDF/A needs an output intent. WeasyPrint 70's own "srgb" intent opens its sRGB profile and
# never closes the file (a ResourceWarning, an error under our tests); we hand it the same
# profile, read once and closed, under another name.
_SRGB_PROFILE = (files("weasyprint.pdf") / "sRGB2014.icc").read_bytes()


# Rendering time and memory grow with the HTML: past this, the input is runaway, not a dossier
# (text fields are capped by their forms). The task's time limits stop what remains too slow.
PDF_MAX_HTML_BYTES = 8 * 1024 * 1024


class PdfTooLarge(ValueError):
    """The document to render is larger than PDF_MAX_HTML_BYTES: refused before WeasyPrint runs."""


class RefusedURL(ValueError):
    """A URL the PDF renderer may not fetch. WeasyPrint logs it and renders without the resource."""


class MissingStaticFile(FatalURLFetchingError):
    """One of our own static files is missing: stop rather than store an unstyled PDF forever."""


class StaticOnlyURLFetcher(URLFetcher):
    """Fetches `data:` URLs and `static:<path>` files of the project's static files; refuses the rest."""

    def __init__(self) -> None:
        super().__init__(allowed_protocols=("data",), allow_redirects=False, fail_on_errors=False)

    def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:
        if url.startswith(STATIC_SCHEME):
            return self._fetch_static(url)
        if url[:5].lower() == "data:":
            # The parent class decodes data: URLs; allowed_protocols keeps it to that scheme.
            return super().fetch(url, headers)
        raise RefusedURL(f"URL refusée par le rendu PDF : {url[:200]}")

    def _fetch_static(self, url: str) -> URLFetcherResponse:
        relative = unquote(url.removeprefix(STATIC_SCHEME).split("?")[0].split("#")[0]).lstrip("/")
        if not relative or ".." in Path(relative).parts or "\\" in relative:
            raise RefusedURL(f"Chemin statique refusé : {url[:200]}")
        found = finders.find(relative)
        if not found:
            raise MissingStaticFile(f"Fichier statique introuvable : {relative}")
        content_type = mimetypes.guess_type(relative)[0] or "application/octet-stream"
        return URLFetcherResponse(url, Path(found).read_bytes(), headers={"Content-Type": content_type})


def _srgb_profile() -> ColorProfile:
    return ColorProfile(io.BytesIO(_SRGB_PROFILE), "sRGB2014.icc", "relative-colorimetric", (["r"], ["g"], ["b"]))


# What a thread's renders share: its font configuration (Pango's font map is not to be shared
# across threads) and its parsed stylesheets. Made at a thread's first render, never at import,
# so a process forked from one that imported this module starts with none.
_per_thread = threading.local()


def _font_config() -> FontConfiguration:
    if not hasattr(_per_thread, "font_config"):
        _per_thread.font_config = FontConfiguration()
    return _per_thread.font_config


def _stylesheet(path: str) -> CSS:
    """The static file `path` parsed as a stylesheet, once per thread."""
    if not hasattr(_per_thread, "stylesheets"):
        _per_thread.stylesheets = {}
    sheets = _per_thread.stylesheets
    if path not in sheets:
        sheets[path] = CSS(url=STATIC_SCHEME + path, url_fetcher=StaticOnlyURLFetcher(), font_config=_font_config())
    return sheets[path]


def render_pdf(template_name: str, context: dict, stylesheet_path: str = "css/pdf.css") -> bytes:
    """Render a Django template to an archival tagged PDF (PDF/A-3u), styled by the static file
    `stylesheet_path`, and return its bytes.

    The output depends only on the template, the stylesheet and the context: no clock and no
    random identifier (dates come from `<meta name="dcterms.created">`, the file identifier is a
    content digest), nor anything of the thread's earlier renders.
    """
    return lay_out(template_name, context, stylesheet_path).write_pdf(**PDF_OPTIONS)


def lay_out(template_name: str, context: dict, stylesheet_path: str = "css/pdf.css") -> Document:
    """The pages `render_pdf` prints, laid out and paginated (boxes and positions, for tests)."""
    with translation.override("fr"):
        html = render_to_string(template_name, context)
    size = len(html.encode())
    if size > PDF_MAX_HTML_BYTES:
        raise PdfTooLarge(f"Document too large to render: {size} bytes of HTML, limit {PDF_MAX_HTML_BYTES}.")
    try:
        return HTML(string=html, url_fetcher=StaticOnlyURLFetcher()).render(
            stylesheets=[_stylesheet(stylesheet_path)],
            font_config=_font_config(),
            color_profiles={"srgb-archive": _srgb_profile()},
            **PDF_OPTIONS,
        )
    except FatalURLFetchingError as error:
        # A BaseException for WeasyPrint; an ordinary error for callers, so a task retries it.
        raise RuntimeError(str(error)) from error
