import datetime as dt
import hashlib
import http.client
import io
import re
import threading
import time
import tracemalloc
import uuid
import zipfile
from pathlib import Path

import psutil
import pytest
from django.contrib.messages import get_messages
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from accounts.tests.factories import UserFactory
from applications.attachments import add_attachment, missing_attachment_types, remove_attachment
from applications.models import Attachment, AttachmentType, Membership
from applications.services import DossierLocked, locked_reason
from applications.tests.factories import CallFactory, ConsortiumFactory, DossierFactory, add_member
from applications.tests.test_uploads import (
    ELF,
    MACH_O,
    WINDOWS_EXE,
    docx_bytes,
    docx_hiding_a_pdf,
    image_bytes,
    ooxml_bytes,
    opendocument_bomb,
    pdf_bytes,
)
from conftest import sign_in

EXECUTABLE_MESSAGE = "Ce fichier est un programme exécutable : il ne peut pas être déposé."


@pytest.fixture(autouse=True)
def _media(media):
    return media


@pytest.fixture
def dossier(applicant):
    return DossierFactory(consortium=ConsortiumFactory(owner=applicant))


@pytest.fixture
def statuts(dossier):
    return dossier.call.attachment_types.get(code="statuts")


@pytest.fixture
def budget(dossier):
    return dossier.call.attachment_types.get(code="budget")


@pytest.fixture
def owner_client(client, applicant):
    sign_in(client, applicant)
    return client


def list_url(dossier) -> str:
    return reverse("applications:attachment-list", args=[dossier.pk])


def download_url(dossier, attachment) -> str:
    return reverse("applications:attachment-download", args=[dossier.pk, attachment.uuid])


def remove_url(dossier, attachment) -> str:
    return reverse("applications:attachment-remove", args=[dossier.pk, attachment.uuid])


def post_upload(client, dossier, data: bytes, *, attachment_type=None, name="statuts.pdf"):
    return client.post(
        list_url(dossier),
        {
            "attachment_type": attachment_type.pk if attachment_type else "",
            "file": SimpleUploadedFile(name, data, content_type="application/pdf"),
        },
    )


def attach(dossier, data: bytes, *, attachment_type=None, name="statuts.pdf"):
    return add_attachment(
        dossier,
        uploaded_file=SimpleUploadedFile(name, data),
        attachment_type=attachment_type,
        by=dossier.consortium.created_by,
    )


def download(client, url):
    response = client.get(url)
    # Reading a streamed response to its end closes the file behind it.
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return response, content


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


# --- Upload ---


def test_upload_stores_the_file_and_its_hash(owner_client, applicant, dossier, statuts):
    data = pdf_bytes()

    response = post_upload(owner_client, dossier, data, attachment_type=statuts, name="Statuts signés.pdf")

    attachment = Attachment.objects.get(dossier=dossier)
    with default_storage.open(attachment.file.name, "rb") as stored:
        stored_bytes = stored.read()
    assert (response.status_code, response["Location"]) == (302, list_url(dossier))
    assert (
        attachment.type,
        attachment.original_name,
        attachment.content_type,
        attachment.size,
        attachment.sha256,
        attachment.uploaded_by,
        attachment.removed_at,
    ) == (
        statuts,
        "Statuts signés.pdf",
        "application/pdf",
        len(data),
        hashlib.sha256(data).hexdigest(),
        applicant,
        None,
    )
    assert (attachment.file.name, stored_bytes) == (f"dossiers/{dossier.pk}/{attachment.uuid.hex}", data)
    assert messages_of(response) == ["La pièce « Statuts signés.pdf » a été déposée."]


def test_list_shows_each_type_with_its_file(owner_client, dossier, statuts):
    data = pdf_bytes()
    attachment = attach(dossier, data, attachment_type=statuts)

    response = owner_client.get(list_url(dossier))

    content = response.content.decode()
    assert response.status_code == 200
    assert [(row.label, row.attachment) for row in response.context["rows"]] == [
        ("Statuts de la structure porteuse", attachment),
        ("Budget prévisionnel", None),
    ]
    assert [t.code for t in response.context["missing"]] == ["budget"]
    assert download_url(dossier, attachment) in content
    assert remove_url(dossier, attachment) in content
    assert hashlib.sha256(data).hexdigest() in content
    assert reverse("applications:dossier-overview", args=[dossier.pk]) in content


def test_upload_form_preselects_the_first_missing_type(owner_client, dossier, statuts, budget):
    attach(dossier, pdf_bytes(), attachment_type=statuts)

    response = owner_client.get(list_url(dossier))

    assert response.context["form"]["attachment_type"].value() == budget.pk


def test_upload_form_offers_the_call_types_read_once(owner_client, dossier, statuts):
    with CaptureQueriesContext(connection) as queries:
        content = owner_client.get(list_url(dossier)).content.decode()

    types = list(dossier.call.attachment_types.all())
    offered = re.findall(r'<option value="(\d*)"[^>]*>([^<]*)</option>', content)
    assert offered == [("", "Autre pièce (facultative)")] + [
        (str(kind.pk), f"{kind.label} (obligatoire)" if kind.required else kind.label) for kind in types
    ]
    # The list and the select share one read of the call's types.
    assert sum('FROM "applications_attachmenttype"' in query["sql"] for query in queries.captured_queries) == 1


def test_executable_renamed_pdf_is_refused_next_to_the_field(owner_client, dossier, statuts):
    response = post_upload(owner_client, dossier, ELF, attachment_type=statuts, name="statuts.pdf")

    content = response.content.decode()
    assert response.status_code == 200
    assert response.context["form"].errors == {"file": [EXECUTABLE_MESSAGE]}
    assert f'<option value="{statuts.pk}" selected>' in content
    assert 'id="error_1_id_file"' in content
    assert EXECUTABLE_MESSAGE in content
    assert Attachment.objects.count() == 0


def _pdf_zip_polyglot() -> bytes:
    buffer = io.BytesIO(pdf_bytes())
    buffer.seek(0, io.SEEK_END)
    with zipfile.ZipFile(buffer, "a") as archive:
        archive.writestr("payload.html", "<script>alert(1)</script>")
    return buffer.getvalue()


ABUSE_CORPUS = {
    "elf": (ELF, "statuts.pdf"),
    "windows-exe": (WINDOWS_EXE, "statuts.pdf"),
    "mach-o": (MACH_O, "statuts.docx"),
    "script": (b"#!/bin/sh\ncurl x | sh\n", "statuts.pdf"),
    "html": (b"<!DOCTYPE html><html><script>alert(1)</script></html>", "statuts.pdf"),
    "svg": (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "logo.png"),
    "html-behind-png-header": (b"\x89PNG\r\n\x1a\n<html><script>alert(1)</script></html>", "logo.png"),
    "png-with-script": (image_bytes("PNG")[:33] + b"\x00\x00\x00\x19tEXt<script>alert(1)</script>", "logo.png"),
    "pdf-zip-polyglot": (_pdf_zip_polyglot(), "statuts.pdf"),
    "docx-hiding-a-pdf": (docx_hiding_a_pdf(), "statuts.docx"),
    "xlsx-1000-entries": (
        ooxml_bytes("xl/workbook.xml", {f"xl/p{index}.xml": b"" for index in range(1000)}),
        "budget.xlsx",
    ),
    "odt-bomb": (opendocument_bomb("application/vnd.oasis.opendocument.text", zeros_mb=101), "statuts.odt"),
    "hostile-name-executable": (ELF, "../../\u202efdp.exe\x00" + "é" * 300 + ".pdf"),
}


@pytest.mark.parametrize("case", list(ABUSE_CORPUS))
def test_abusive_upload_is_refused_in_french_next_to_the_field_keeping_the_form(
    owner_client, dossier, budget, media, case
):
    data, name = ABUSE_CORPUS[case]

    response = post_upload(owner_client, dossier, data, attachment_type=budget, name=name)

    content = response.content.decode()
    errors = response.context["form"].errors
    assert (response.status_code, list(errors)) == (200, ["file"])
    assert errors["file"][0].startswith(("Ce ", "Cette ", "Les pages web"))
    assert 'id="error_1_id_file"' in content
    assert f'<option value="{budget.pk}" selected>' in content
    assert (Attachment.objects.count(), [path for path in media.rglob("*") if path.is_file()]) == (0, [])


def test_hostile_name_is_shown_sanitised_and_never_reaches_the_file_system(owner_client, dossier, statuts):
    post_upload(
        owner_client, dossier, pdf_bytes(), attachment_type=statuts, name="..\\..\\rap\u202eport\x00" + "é" * 300
    )

    attachment = Attachment.objects.get()
    assert (attachment.original_name, attachment.file.name) == (
        "rapport" + "é" * 109 + ".pdf",
        f"dossiers/{dossier.pk}/{attachment.uuid.hex}",
    )


def test_upload_without_a_file_is_refused(owner_client, dossier, statuts):
    response = owner_client.post(list_url(dossier), {"attachment_type": statuts.pk})

    assert response.context["form"].errors == {"file": ["Choisissez le fichier à déposer."]}


def test_oversized_upload_is_cut_short_and_refused(owner_client, settings, dossier, statuts):
    settings.ATTACHMENT_MAX_BYTES = 1024 * 1024

    response = post_upload(owner_client, dossier, pdf_bytes(size=1024 * 1024 + 1), attachment_type=statuts)

    assert response.status_code == 200
    assert response.context["form"].errors == {"file": ["Le fichier dépasse la taille maximale autorisée (1 Mo)."]}
    assert response.wsgi_request.upload_handlers[0].too_large is True
    assert Attachment.objects.count() == 0


def test_upload_is_csrf_protected_even_when_the_file_is_skipped(applicant, settings, dossier, statuts):
    settings.ATTACHMENT_MAX_BYTES = 64 * 1024
    client = Client(enforce_csrf_checks=True)
    sign_in(client, applicant)
    client.get(list_url(dossier))
    token = client.cookies["csrftoken"].value

    def upload_with(fields: dict, data: bytes):
        file = SimpleUploadedFile("statuts.pdf", data, content_type="application/pdf")
        return client.post(list_url(dossier), {**fields, "attachment_type": statuts.pk, "file": file})

    without_token = upload_with({}, pdf_bytes())
    oversized = upload_with({"csrfmiddlewaretoken": token}, pdf_bytes(size=200 * 1024))
    accepted = upload_with({"csrfmiddlewaretoken": token}, pdf_bytes())

    assert (without_token.status_code, oversized.status_code, accepted.status_code) == (403, 200, 302)
    assert oversized.context["form"].errors == {"file": ["Le fichier dépasse la taille maximale autorisée (64 Ko)."]}
    assert Attachment.objects.count() == 1


def test_call_limit_replaces_the_portal_limit(owner_client, settings, dossier, statuts):
    settings.ATTACHMENT_MAX_BYTES = 1024 * 1024
    dossier.call.max_attachment_size = 2 * 1024 * 1024
    dossier.call.save()

    response = post_upload(owner_client, dossier, pdf_bytes(size=1536 * 1024), attachment_type=statuts)

    assert response.status_code == 302
    assert Attachment.objects.get().size == 1536 * 1024


def test_upload_over_the_dossier_total_is_refused(owner_client, settings, dossier, statuts, budget):
    settings.ATTACHMENT_DOSSIER_MAX_BYTES = 3 * 1024
    attach(dossier, pdf_bytes(size=2048), attachment_type=statuts)

    response = post_upload(owner_client, dossier, pdf_bytes(size=2048), attachment_type=budget)

    assert response.context["form"].errors == {
        "file": [
            "Avec ce fichier, les pièces du dossier dépasseraient la taille totale autorisée (3 Ko). "
            "Retirez une pièce devenue inutile ou réduisez la taille du fichier."
        ]
    }
    assert Attachment.objects.filter(type=budget).count() == 0


def test_replacing_a_required_piece_does_not_count_the_old_file_in_the_total(settings, dossier, statuts):
    settings.ATTACHMENT_DOSSIER_MAX_BYTES = 3 * 1024
    attach(dossier, pdf_bytes(size=2048), attachment_type=statuts)

    replacement = attach(dossier, pdf_bytes(size=2048), attachment_type=statuts)

    assert list(Attachment.objects.filter(removed_at__isnull=True)) == [replacement]


def test_second_upload_for_a_required_type_replaces_the_first(owner_client, dossier, statuts):
    post_upload(owner_client, dossier, pdf_bytes(), attachment_type=statuts, name="ancien.pdf")
    post_upload(owner_client, dossier, docx_bytes(), attachment_type=statuts, name="nouveau.docx")

    old, new = Attachment.objects.order_by("pk")
    response = owner_client.get(list_url(dossier))
    assert (old.original_name, old.removed_at is not None) == ("ancien.pdf", True)
    assert (new.original_name, new.removed_at) == ("nouveau.docx", None)
    assert [row.attachment for row in response.context["rows"] if row.attachment] == [new]


def test_extra_pieces_accumulate(owner_client, dossier):
    post_upload(owner_client, dossier, pdf_bytes(), name="lettre-1.pdf")
    post_upload(owner_client, dossier, pdf_bytes(), name="lettre-2.pdf")

    assert list(
        Attachment.objects.filter(removed_at__isnull=True, type=None).values_list("original_name", flat=True)
    ) == [
        "lettre-1.pdf",
        "lettre-2.pdf",
    ]


def test_type_of_another_call_is_refused(owner_client, dossier):
    foreign_type = AttachmentType.objects.create(call=CallFactory(attachment_types=False), code="autre", label="Autre")

    response = post_upload(owner_client, dossier, pdf_bytes(), attachment_type=foreign_type)

    assert (response.status_code, list(response.context["form"].errors)) == (200, ["attachment_type"])
    assert Attachment.objects.count() == 0


# --- Deadline ---


@pytest.fixture
def closed_dossier(applicant):
    call = CallFactory(opens_at=timezone.now() - dt.timedelta(days=60), closes_at=timezone.now() - dt.timedelta(days=1))
    return DossierFactory(call=call, consortium=ConsortiumFactory(owner=applicant))


def test_upload_after_the_deadline_is_refused_with_the_reason(owner_client, closed_dossier):
    statuts = closed_dossier.call.attachment_types.get(code="statuts")

    response = post_upload(owner_client, closed_dossier, pdf_bytes(), attachment_type=statuts)

    reason = locked_reason(closed_dossier)
    assert reason.startswith("La date limite de dépôt (")
    assert (response.status_code, messages_of(response)) == (302, [reason])
    assert Attachment.objects.count() == 0


def test_list_after_the_deadline_shows_the_reason_and_no_form(owner_client, closed_dossier):
    response = owner_client.get(list_url(closed_dossier))

    assert (response.context["form"], response.context["locked_reason"]) == (None, locked_reason(closed_dossier))
    assert "Déposer le fichier" not in response.content.decode()


def test_service_refuses_an_upload_after_the_deadline(closed_dossier):
    with pytest.raises(DossierLocked):
        attach(closed_dossier, pdf_bytes())


def test_removal_after_the_deadline_is_refused(owner_client, dossier, statuts):
    attachment = attach(dossier, pdf_bytes(), attachment_type=statuts)
    dossier.call.closes_at = timezone.now() - dt.timedelta(minutes=1)
    dossier.call.opens_at = timezone.now() - dt.timedelta(days=60)
    dossier.call.save()

    response = owner_client.post(remove_url(dossier, attachment))

    attachment.refresh_from_db()
    assert (response.status_code, attachment.removed_at) == (302, None)
    assert messages_of(response) == [locked_reason(dossier)]


# --- Download and removal ---


def test_download_is_an_attachment_with_nosniff(owner_client, dossier, statuts):
    data = pdf_bytes()
    attachment = attach(dossier, data, attachment_type=statuts, name="Statuts.pdf")

    response, content = download(owner_client, download_url(dossier, attachment))

    assert response.status_code == 200
    assert (response["Content-Disposition"], response["X-Content-Type-Options"], response["Content-Type"]) == (
        'attachment; filename="Statuts.pdf"',
        "nosniff",
        "application/pdf",
    )
    assert content == data


def test_removed_attachment_leaves_the_list_but_stays_downloadable(owner_client, dossier, statuts):
    data = pdf_bytes()
    attachment = attach(dossier, data, attachment_type=statuts)

    response = owner_client.post(remove_url(dossier, attachment))

    attachment.refresh_from_db()
    listing = owner_client.get(list_url(dossier))
    _download, content = download(owner_client, download_url(dossier, attachment))
    assert (response.status_code, attachment.removed_at is not None) == (302, True)
    assert download_url(dossier, attachment) not in listing.content.decode()
    assert [t.code for t in listing.context["missing"]] == ["statuts", "budget"]
    assert (content, default_storage.exists(attachment.file.name)) == (data, True)


def test_remove_needs_post(owner_client, dossier, statuts):
    attachment = attach(dossier, pdf_bytes(), attachment_type=statuts)

    response = owner_client.get(remove_url(dossier, attachment))

    assert response.status_code == 405


def test_missing_attachment_types_lists_required_types_without_a_live_file(dossier, statuts, budget):
    AttachmentType.objects.create(call=dossier.call, code="soutiens", label="Lettres de soutien", required=False)
    attachment = attach(dossier, pdf_bytes(), attachment_type=statuts)
    assert missing_attachment_types(dossier) == [budget]

    remove_attachment(attachment, by=dossier.consortium.created_by)

    assert missing_attachment_types(dossier) == [statuts, budget]


# --- Who may do what ---


def test_other_consortium_gets_404_everywhere(client, dossier, statuts):
    attachment = attach(dossier, pdf_bytes(), attachment_type=statuts)
    outsider = UserFactory(role=Role.APPLICANT)
    own_dossier = DossierFactory(consortium=ConsortiumFactory(owner=outsider))
    sign_in(client, outsider)

    statuses = [
        client.get(list_url(dossier)).status_code,
        post_upload(client, dossier, pdf_bytes(), attachment_type=statuts).status_code,
        client.get(download_url(dossier, attachment)).status_code,
        client.get(download_url(own_dossier, attachment)).status_code,
        client.post(remove_url(dossier, attachment)).status_code,
        client.post(remove_url(own_dossier, attachment)).status_code,
    ]

    attachment.refresh_from_db()
    assert (statuses, attachment.removed_at) == ([404] * 6, None)


def test_reader_may_read_and_download_but_not_upload_or_remove(client, dossier, statuts):
    data = pdf_bytes()
    attachment = attach(dossier, data, attachment_type=statuts)
    reader = add_member(dossier.consortium, Membership.Role.READER).user
    sign_in(client, reader)

    listing = client.get(list_url(dossier))
    _download, content = download(client, download_url(dossier, attachment))
    upload_status = post_upload(client, dossier, pdf_bytes(), attachment_type=statuts).status_code
    remove_status = client.post(remove_url(dossier, attachment)).status_code

    attachment.refresh_from_db()
    assert (listing.status_code, listing.context["form"], content) == (200, None, data)
    assert remove_url(dossier, attachment) not in listing.content.decode()
    assert (upload_status, remove_status, attachment.removed_at) == (403, 403, None)
    assert Attachment.objects.count() == 1


def test_anonymous_is_sent_to_login(client, dossier, statuts):
    attachment = attach(dossier, pdf_bytes(), attachment_type=statuts)
    login = reverse("account_login")

    responses = [client.get(list_url(dossier)), client.get(download_url(dossier, attachment))]

    assert [(r.status_code, r["Location"]) for r in responses] == [
        (302, f"{login}?next={list_url(dossier)}"),
        (302, f"{login}?next={download_url(dossier, attachment)}"),
    ]


# --- A 100 MB upload through a real HTTP server ---

HUNDRED_MB = 100 * 1024 * 1024


def _folder_bytes(folder) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def _multipart_upload(fields: dict[str, str], file_size: int):
    """A multipart body generated on the fly, with its length and boundary: never held in memory."""
    boundary = f"ptce-{uuid.uuid4().hex}"
    head = "".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields.items()
    )
    head += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="rapport.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    )
    tail = f"\r\n--{boundary}--\r\n".encode()
    start = b"%PDF-1.7\n%"
    zeros = bytes(1024 * 1024)

    def body():
        yield head.encode() + start
        remaining = file_size - len(start)
        while remaining > 0:
            yield zeros[: min(remaining, len(zeros))]
            remaining -= len(zeros)
        yield tail

    return body(), len(head.encode()) + file_size + len(tail), boundary


def test_a_100_mb_upload_is_refused_before_it_fills_memory_or_disk(live_server, settings, applicant, tmp_path_factory):
    settings.ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
    upload_temp = tmp_path_factory.mktemp("upload-temp")
    settings.FILE_UPLOAD_TEMP_DIR = str(upload_temp)
    media = Path(settings.STORAGES["default"]["OPTIONS"]["location"])
    dossier = DossierFactory(consortium=ConsortiumFactory(owner=applicant))
    statuts = dossier.call.attachment_types.get(code="statuts")
    browser = sign_in(Client(), applicant)
    page = browser.get(list_url(dossier))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    cookies = "; ".join(f"{name}={morsel.value}" for name, morsel in browser.cookies.items())
    body, length, boundary = _multipart_upload(
        {"csrfmiddlewaretoken": token, "attachment_type": statuts.pk}, HUNDRED_MB
    )

    process = psutil.Process()
    peaks = {"disk": 0, "rss": 0}
    sending = threading.Event()
    sending.set()

    def sample():
        while sending.is_set():
            peaks["disk"] = max(peaks["disk"], _folder_bytes(upload_temp) + _folder_bytes(media))
            peaks["rss"] = max(peaks["rss"], process.memory_info().rss)
            time.sleep(0.005)

    rss_before = process.memory_info().rss
    sampler = threading.Thread(target=sample, daemon=True)
    tracemalloc.start()
    sampler.start()
    try:
        connection = http.client.HTTPConnection(live_server.thread.host, live_server.thread.port, timeout=120)
        connection.request(
            "POST",
            list_url(dossier),
            body=body,
            headers={
                "Content-Type": f"multipart/form-data; boundary={boundary}",
                "Content-Length": str(length),
                "Cookie": cookies,
                "Referer": live_server.url + list_url(dossier),
            },
        )
        response = connection.getresponse()
        content = response.read().decode()
        connection.close()
    finally:
        sending.clear()
        sampler.join()
        _current, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

    print(  # the figures, for docs/SECURITY.md (pytest -s)
        f"100 MB upload: traced peak {traced_peak / 2**20:.1f} MiB, "
        f"RSS growth {(peaks['rss'] - rss_before) / 2**20:.1f} MiB, disk peak {peaks['disk']} bytes"
    )
    assert response.status == 200
    assert "Le fichier dépasse la taille maximale autorisée (10 Mo)." in content
    assert 'id="error_1_id_file"' in content
    assert Attachment.objects.count() == 0
    # The announced length already exceeds the limit: the file is skipped before its first byte
    # (at worst, a body that lies about its length, up to the limit would be written).
    assert peaks["disk"] == 0
    assert (_folder_bytes(upload_temp), _folder_bytes(media)) == (0, 0)
    assert traced_peak < 8 * 1024 * 1024
    assert peaks["rss"] - rss_before < 32 * 1024 * 1024
