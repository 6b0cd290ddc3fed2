"""PDF benchmark: the submission PDF against bare WeasyPrint, per page, memory, French typography,
and throughput with one process per core.

    python -m bench.pdf_bench
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path

SIZES = (1, 10, 28, 56)  # growth factors of the snapshot: about 4 to 40 pages
POOL_PDFS = 12  # PDFs rendered by the pool (and serially, as its baseline)
SUBMITTED_AT = dt.datetime(2013, 10, 30, 22, 59, 59, tzinfo=dt.UTC)
FRENCH_LINE = (
    "« Le pôle coopératif œuvre pour l’économie sociale » : 1\u202f250\u00a0€ par mois, "
    "c’est-à-dire 15\u202f000\u00a0€ par an ; l’œuvre est « commune » ! Cœur, sœur, bœuf… "
)


def grown_content(factor: int) -> dict:
    """The Cité Phares snapshot with `factor` times the organisations and `factor` times the text."""
    from applications.tests.snapshots import build_snapshot_content

    content = build_snapshot_content()
    base = content["organisations"]
    organisations = []
    for copy_index in range(factor):
        for org in base:
            suffix = f" ({copy_index + 1})" if copy_index else ""
            organisations.append({**org, "name": org["name"] + suffix, "is_lead": org["is_lead"] and not copy_index})
    content["organisations"] = organisations
    for section in content["sections"]:
        for field in section["fields"]:
            field["value"] = "\n".join([field["value"]] * factor)
    return content


def unsaved_submission(content: dict):
    """A Submission row in memory: the PDF context reads only its fields, never the database."""
    from applications.models import Submission
    from applications.tests.snapshots import canonical_sha256

    return Submission(
        reference="PTCE-2013-0042",
        version=1,
        submitted_at=SUBMITTED_AT,
        content=content,
        content_sha256=canonical_sha256(content),
    )


def render_content(content: dict) -> bytes:
    from applications.documents import PDF_TEMPLATE, submission_pdf_context
    from applications.pdf import render_pdf

    return render_pdf(PDF_TEMPLATE, submission_pdf_context(unsaved_submission(content)))


def html_of(content: dict) -> str:
    from django.template.loader import render_to_string
    from django.utils import translation

    from applications.documents import PDF_TEMPLATE, submission_pdf_context

    with translation.override("fr"):
        return render_to_string(PDF_TEMPLATE, submission_pdf_context(unsaved_submission(content)))


def page_count(pdf: bytes) -> int:
    import io

    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(pdf)).pages)


# --- (a) task path vs bare WeasyPrint ---


def _peak_rss_kib() -> int:
    """VmHWM: this process's peak resident set. Unlike ru_maxrss it is not inherited across exec."""
    with open("/proc/self/status", encoding="ascii") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))


def bench_task_path() -> None:
    from django.contrib.staticfiles import finders
    from weasyprint import HTML

    from applications.documents import render_submission_pdf
    from applications.models import Submission
    from applications.tests.snapshots import build_snapshot_content, create_submission

    from .common import median_seconds, verdict

    submission = create_submission(content=build_snapshot_content())
    # The baseline gets the same stylesheet inline (the task passes it parsed, once per thread).
    css = Path(finders.find("css/pdf.css")).read_text(encoding="utf-8")
    html = html_of(submission.content).replace("</head>", f"<style>{css}</style></head>", 1)
    assert "<style>" in html
    assert "static:" not in html

    def task_path() -> None:
        Submission.objects.filter(pk=submission.pk).update(pdf_rendered_at=None)
        assert render_submission_pdf(submission.pk)

    def bare() -> None:
        HTML(string=html).write_pdf()

    task = median_seconds(task_path, repeat=5)
    baseline = median_seconds(bare, repeat=5)
    ratio = task / baseline
    print("(a) render_submission_pdf (DB read, template, PDF/A-3u + tags, store) vs HTML(string).write_pdf()")
    print(
        f"    same HTML (stylesheet inlined for the baseline), median of 5: ratio {ratio:.2f}x  (target < 1.5x: {verdict(ratio < 1.5)})"
    )
    print()


# --- (b) time per page, (c) memory per page ---


def bench_pages() -> list[tuple[int, int]]:
    from .common import median_seconds

    print("(b) time per page as the snapshot grows (median of 3 renders each)")
    rows = []
    for factor in SIZES:
        content = grown_content(factor)
        pages = page_count(render_content(content))
        seconds = median_seconds(lambda content=content: render_content(content), repeat=3, warmup=0)
        rows.append((factor, pages, seconds))
    reference = rows[0][2] / rows[0][1]
    for factor, pages, seconds in rows:
        print(f"    x{factor:<3} {pages:>3} pages  time/page = {seconds / pages / reference:.2f}x that of the smallest")
    # Marginal cost of a page between successive sizes: the fixed cost (fonts, cover) drops out.
    marginals = [(b[2] - a[2]) / (b[1] - a[1]) for a, b in itertools.pairwise(rows)]
    print(
        "    marginal time/page between successive sizes, vs the first step: "
        + ", ".join(f"{marginal / marginals[0]:.2f}x" for marginal in marginals)
    )
    spread = max(marginals) / min(marginals)
    growth = rows[-1][2] / rows[0][2]
    print(
        f"    {rows[-1][1]} vs {rows[0][1]} pages: {growth:.1f}x the time for {rows[-1][1] / rows[0][1]:.1f}x the pages"
    )
    print(f"    marginal max/min {spread:.2f}x ({'roughly constant' if spread < 1.5 else 'NOT constant'})")
    print()
    return [(factor, pages) for factor, pages, _ in rows]


def memory_child(factor: int) -> None:
    """Run in a fresh interpreter: maxrss before and after one render of the grown snapshot."""
    from .common import setup_django_without_database

    setup_django_without_database()
    import weasyprint  # noqa: F401 - loaded before the baseline so only the render is measured

    content = grown_content(factor)
    before = _peak_rss_kib()
    pdf = render_content(content)
    after = _peak_rss_kib()
    print(json.dumps({"pages": page_count(pdf), "delta_kib": after - before}))


def bench_memory() -> None:
    from .common import verdict

    print("(c) peak memory per render (VmHWM delta in a fresh subprocess per size)")
    results = []
    for factor in SIZES:
        output = subprocess.run(
            [sys.executable, "-m", "bench.pdf_bench", "--memory-child", str(factor)],
            check=True,
            capture_output=True,
            text=True,
            env=os.environ,
        ).stdout
        measured = json.loads(output.strip().splitlines()[-1])
        results.append((factor, measured["pages"], measured["delta_kib"] / 1024))
    for factor, pages, mib in results:
        print(f"    x{factor:<3} {pages:>3} pages  peak +{mib:6.1f} MiB  = {mib / pages:5.2f} MiB/page")
    (_, first_pages, first_mib), (_, last_pages, last_mib) = results[0], results[-1]
    marginal = (last_mib - first_mib) / (last_pages - first_pages)
    worst = max(mib / pages for _, pages, mib in results)
    print(f"    marginal cost {first_pages}->{last_pages} pages: {marginal:.2f} MiB/page")
    print(f"    worst MiB/page {worst:.2f}  (target < 10 MB/page: {verdict(worst < 10)})")
    print()


# --- (d) French typography vs plain ASCII ---


def _page_html(text: str) -> str:
    from django.utils.html import escape

    return (
        '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">'
        f'<link rel="stylesheet" href="static:css/pdf.css"></head><body><p>{escape(text)}</p></body></html>'
    )


def bench_typography() -> None:
    from weasyprint import HTML

    from applications.pdf import PDF_OPTIONS, StaticOnlyURLFetcher, _srgb_profile

    from .common import median_seconds, verdict

    french = (FRENCH_LINE * 40)[:4800]  # about one A4 page at 9.5 pt
    # Same length and the same break opportunities: no-break spaces become spaces, letters become "e".
    spaced = french.replace("\u202f", " ").replace("\u00a0", " ")
    ascii_text = "".join(character if character.isascii() else "e" for character in spaced)
    assert len(ascii_text) == len(french)
    assert ascii_text.isascii()

    def render(text: str) -> bytes:
        return HTML(string=_page_html(text), url_fetcher=StaticOnlyURLFetcher()).write_pdf(
            color_profiles={"srgb-archive": _srgb_profile()}, **PDF_OPTIONS
        )

    pages = page_count(render(french))
    french_time = median_seconds(lambda: render(french), repeat=5)
    ascii_time = median_seconds(lambda: render(ascii_text), repeat=5)
    ratio = french_time / ascii_time
    print(f"(d) {len(french)} characters of French typography (« » œ € U+202F U+00A0) vs ASCII, {pages} page(s)")
    print(f"    same pipeline (pdf.css, restricted fetcher, PDF/A-3u), median of 5: ratio {ratio:.2f}x")
    print(f"    (target <= 1.5x: {verdict(ratio <= 1.5)})")
    print()


# --- (e) throughput, one process per core ---


def _render_one(factor: int) -> int:
    return len(render_content(grown_content(factor)))


def bench_throughput() -> None:
    from django.db import connections

    cores = os.cpu_count() or 1
    connections.close_all()  # nothing shared with the forked workers
    start = time.perf_counter()
    for _ in range(POOL_PDFS):
        _render_one(1)
    serial = time.perf_counter() - start
    context = multiprocessing.get_context("fork")
    with context.Pool(cores) as pool:
        pool.map(_render_one, [1] * cores)  # warm each worker
        start = time.perf_counter()
        pool.map(_render_one, [1] * POOL_PDFS, chunksize=1)
        parallel = time.perf_counter() - start
    per_minute_serial = POOL_PDFS / serial * 60
    per_minute_pool = POOL_PDFS / parallel * 60
    print(f"(e) {POOL_PDFS} snapshot PDFs, Pool({cores}) vs one process (same run)")
    print(f"    one process: {per_minute_serial:.0f} PDFs/min; Pool({cores}): {per_minute_pool:.0f} PDFs/min")
    print(f"    speed-up {per_minute_pool / per_minute_serial:.2f}x on {cores} cores")
    print()


def main() -> None:
    from .common import print_environment, scratch_database

    started = time.perf_counter()
    with scratch_database("pdf"):
        print_environment()
        bench_task_path()
        bench_pages()
        bench_memory()
        bench_typography()
        bench_throughput()
    print(f"total runtime {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--memory-child":
        memory_child(int(sys.argv[2]))
    else:
        main()
