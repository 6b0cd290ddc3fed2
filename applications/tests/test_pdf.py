import base64
import hashlib
import io
import re
import threading
import time

import pytest
from django.conf import settings
from django.db import connection
from pypdf import PdfReader
from weasyprint.formatting_structure import boxes

from applications.documents import PDF_TEMPLATE, render_submission_pdf, submission_pdf_context
from applications.pdf import MissingStaticFile, RefusedURL, StaticOnlyURLFetcher, lay_out, render_pdf
from applications.tasks import render_submission_pdf_task
from jobs.models import Job
from ptce_portal.celery import app as celery_app

from .pdfs import compact, pdf_text
from .snapshots import HOSTILE_TEXT, build_snapshot_content, create_submission


def stored_pdf(submission) -> bytes:
    with submission.pdf.open("rb") as handle:
        return handle.read()


# --- The restricted URL fetcher ---


def test_fetcher_serves_the_pdf_stylesheet_from_static_files():
    response = StaticOnlyURLFetcher().fetch("static:css/pdf.css")

    assert response.read() == (settings.BASE_DIR / "static" / "css" / "pdf.css").read_bytes()
    assert response.content_type == "text/css"


def test_fetcher_decodes_data_urls():
    url = "data:text/plain;base64," + base64.b64encode("Cité Phares".encode()).decode()

    assert StaticOnlyURLFetcher().fetch(url).read() == "Cité Phares".encode()


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "http://127.0.0.1:1/",
        "https://example.org/style.css",
        "ftp://example.org/file",
        "static:../../../../etc/passwd",
        "static:..%2F..%2F..%2Fetc%2Fpasswd",
        "static:css/../../pyproject.toml",
    ],
)
def test_fetcher_refuses_other_files_and_the_network(url):
    with pytest.raises(RefusedURL):
        StaticOnlyURLFetcher().fetch(url)


def test_fetcher_stops_the_render_when_our_own_static_file_is_missing():
    with pytest.raises(MissingStaticFile):
        StaticOnlyURLFetcher().fetch("static:css/does-not-exist.css")


def test_refused_urls_are_left_out_of_the_pdf(settings, caplog):
    settings.TEMPLATES = [
        {
            "BACKEND": "django.template.backends.django.DjangoTemplates",
            "OPTIONS": {
                "loaders": [
                    (
                        "django.template.loaders.locmem.Loader",
                        {
                            "hostile.html": (
                                '<html lang="fr"><head><link rel="stylesheet" href="http://127.0.0.1:1/x.css"></head>'
                                '<body><p>Texte</p><img src="file:///etc/passwd"></body></html>'
                            )
                        },
                    )
                ]
            },
        }
    ]

    pdf = render_pdf("hostile.html", {})

    assert compact(pdf_text(pdf)).startswith("Texte")  # then our stylesheet's page footer
    refused = sorted(record.getMessage() for record in caplog.records if "URL refusée" in record.getMessage())
    assert len(refused) == 2


# --- The submission PDF ---


def test_render_submission_pdf_shows_reference_hash_pole_and_budget(db, media):
    submission = create_submission(reference="PTCE-2013-0042")

    assert render_submission_pdf(submission) is True

    submission.refresh_from_db()
    data = stored_pdf(submission)
    text = pdf_text(data)
    assert submission.pdf.name == f"submissions/{submission.dossier_id}/PTCE-2013-0042.pdf"
    assert submission.pdf_sha256 == hashlib.sha256(data).hexdigest()
    assert submission.pdf_rendered_at is not None
    assert text.count("PTCE-2013-0042") >= 2  # cover, and the header of the next pages
    assert submission.content_sha256 in compact(text)
    assert "Déposé le 30 octobre 2013 à 23:59:59" in text
    assert "Cité Phares" in text
    assert "Association Halage" in text
    assert "Total des dépenses 172\u202f000\u00a0€ 157\u202f500\u00a0€ 160\u202f500\u00a0€ 490\u202f000\u00a0€" in text
    assert "Subvention demandée 75\u202f000\u00a0€ 50\u202f000\u00a0€ 45\u202f000\u00a0€ 170\u202f000\u00a0€" in text
    assert "page 1 / 4" in text  # the stylesheet was fetched: its margin boxes are there


def test_markup_typed_in_the_dossier_appears_as_text(db, media):
    submission = create_submission()

    render_submission_pdf(submission)

    submission.refresh_from_db()
    text = pdf_text(stored_pdf(submission))
    assert compact(HOSTILE_TEXT) in compact(text)
    assert "root:" not in text


def test_pdf_is_archival_tagged_and_french(db, media):
    submission = create_submission(reference="PTCE-2013-0042")

    render_submission_pdf(submission)

    submission.refresh_from_db()
    reader = PdfReader(io.BytesIO(stored_pdf(submission)))
    root = reader.trailer["/Root"]
    xmp = root["/Metadata"].get_object().get_data().decode()
    assert re.findall(r'pdfaid:(part|conformance)="(\w+)"', xmp) == [("part", "3"), ("conformance", "U")]
    assert bool(root["/MarkInfo"]["/Marked"]) is True
    assert "/StructTreeRoot" in root
    assert root["/Lang"] == "fr"
    assert reader.metadata.title == "Dossier PTCE-2013-0042 — Cité Phares"
    assert reader.metadata["/CreationDate"] == "D:20131030225959Z"


def test_rendering_the_same_snapshot_twice_gives_the_same_bytes(db):
    context = submission_pdf_context(create_submission())

    assert render_pdf(PDF_TEMPLATE, context) == render_pdf(PDF_TEMPLATE, context)


def test_a_render_owes_nothing_to_the_renders_before_it_in_its_thread(db):
    """A thread keeps its font configuration and parsed stylesheets from one render to the next
    (applications/pdf.py): the bytes are those of a thread's first render all the same."""
    context = submission_pdf_context(create_submission())
    first_of_a_thread = []
    thread = threading.Thread(target=lambda: first_of_a_thread.append(render_pdf(PDF_TEMPLATE, context)))
    thread.start()
    thread.join()

    organisations = [
        {**org, "name": "Œuvre « commune » — Sœurs & Cœurs"} for org in build_snapshot_content()["organisations"]
    ]
    other = submission_pdf_context(create_submission(content=build_snapshot_content(organisations=organisations)))
    render_pdf(PDF_TEMPLATE, other)
    render_pdf(PDF_TEMPLATE, other, stylesheet_path="css/pdf-laureates.css")

    assert render_pdf(PDF_TEMPLATE, context) == first_of_a_thread[0]


def test_render_submission_pdf_twice_keeps_the_first_file(db, media):
    submission = create_submission()
    render_submission_pdf(submission)
    submission.refresh_from_db()
    first = (submission.pdf.name, submission.pdf_sha256, submission.pdf_rendered_at)

    assert render_submission_pdf(submission.pk) is False

    submission.refresh_from_db()
    assert (submission.pdf.name, submission.pdf_sha256, submission.pdf_rendered_at) == first
    assert [path.name for path in (media / "submissions" / str(submission.dossier_id)).iterdir()] == [
        f"{submission.reference}.pdf"
    ]


def test_two_concurrent_renders_store_one_file(transactional_db, media):
    submission = create_submission()
    start = threading.Barrier(2)
    results = []

    def render():
        start.wait()
        try:
            results.append(render_submission_pdf(submission.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=render) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    submission.refresh_from_db()
    assert sorted(results) == [False, True]
    assert [path.name for path in (media / "submissions" / str(submission.dossier_id)).iterdir()] == [
        f"{submission.reference}.pdf"
    ]
    assert hashlib.sha256(stored_pdf(submission)).hexdigest() == submission.pdf_sha256


def test_file_left_by_a_failed_attempt_is_replaced(db, media):
    submission = create_submission()
    orphan = media / "submissions" / str(submission.dossier_id) / f"{submission.reference}.pdf"
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"half-written")

    render_submission_pdf(submission)

    submission.refresh_from_db()
    assert submission.pdf.name == f"submissions/{submission.dossier_id}/{submission.reference}.pdf"
    assert hashlib.sha256(orphan.read_bytes()).hexdigest() == submission.pdf_sha256


# --- The task ---


def test_render_task_is_routed_to_the_pdf_queue():
    route = celery_app.amqp.router.route({}, render_submission_pdf_task.name)

    assert (render_submission_pdf_task.name, route["queue"].name) == (
        "applications.tasks.render_submission_pdf_task",
        "pdf",
    )


def test_render_task_renders_then_does_nothing(db, media):
    submission = create_submission()

    assert render_submission_pdf_task(submission_id=submission.pk) is True
    assert render_submission_pdf_task(submission_id=submission.pk) is False


def test_render_task_sent_through_the_outbox_marks_its_job_done(db, media):
    submission = create_submission()
    job = Job.objects.create(task_name=render_submission_pdf_task.name, kwargs={"submission_id": submission.pk})

    render_submission_pdf_task.apply(kwargs={"submission_id": submission.pk, "job_id": job.pk})

    job.refresh_from_db()
    submission.refresh_from_db()
    assert (job.status, submission.pdf_rendered_at is not None) == (Job.Status.DONE, True)


def test_render_task_returns_quietly_when_the_submission_is_gone(db):
    assert render_submission_pdf_task(submission_id=987654321) is False


@pytest.mark.worker
def test_worker_renders_the_pdf_through_the_broker(celery_worker, media):
    submission = create_submission(reference="PTCE-2013-0042")

    render_submission_pdf_task.delay(submission_id=submission.pk)

    deadline = time.monotonic() + 60
    while submission.pdf_rendered_at is None and time.monotonic() < deadline:
        time.sleep(0.25)
        submission.refresh_from_db()
    assert submission.pdf_rendered_at is not None
    text = pdf_text(stored_pdf(submission))
    assert "PTCE-2013-0042" in text
    assert submission.content_sha256 in compact(text)


def _texts_in_cells(box, cell=None):
    """(cell, text box) for every piece of text laid out inside a table cell."""
    if isinstance(box, boxes.TableCellBox):
        cell = box
    if isinstance(box, boxes.TextBox) and cell is not None:
        yield cell, box
    for child in getattr(box, "children", ()):
        yield from _texts_in_cells(child, cell)


def test_long_unbroken_names_stay_inside_their_table_columns(db):
    # The submission's tables take their column widths from their header (fixed layout, a fifth
    # of a render's time): a name longer than its column must break, not run over the next one.
    content = build_snapshot_content()
    content["attachments"][0]["name"] = "statuts_" + "structure_porteuse_" * 6 + "2013.pdf"
    content["organisations"][0]["name"] = "Groupement" + "-coopératif" * 9
    submission = create_submission(content=content)

    document = lay_out(PDF_TEMPLATE, submission_pdf_context(submission))

    placed = [pair for page in document.pages for pair in _texts_in_cells(page._page_box)]
    long_names = [text for _cell, text in placed if "structure_porteuse" in text.text or "-coopératif" in text.text]
    assert len(long_names) >= 4  # both names were broken over several lines
    for cell, text in placed:
        assert text.position_x + text.width <= cell.content_box_x() + cell.width + 0.5, text.text
