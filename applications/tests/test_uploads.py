"""What an upload is, by content: unit tests, no database. The file builders serve test_attachments too."""

import hashlib
import io
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import SkipFile
from PIL import Image
from pypdf import PdfWriter

from applications.uploads import (
    FORM_OVERHEAD_BYTES,
    SizeLimitUploadHandler,
    format_size_limit,
    inspect_upload,
    safe_name,
)

MAX = 10 * 1024 * 1024

# --- Small real files, built here ---


def pdf_bytes(size: int | None = None) -> bytes:
    """A one-page PDF; `size` pads it with a trailing comment to exactly that many bytes."""
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    data = buffer.getvalue()
    if size is not None:
        data += b"%" + b"x" * (size - len(data) - 2) + b"\n"
        assert len(data) == size
    return data


def image_bytes(image_format: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), color=(0, 0, 145)).save(buffer, image_format)
    return buffer.getvalue()


OOXML_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="xml" ContentType="application/xml"/></Types>'
)


def ooxml_bytes(main_part: str, extra_entries: dict[str, bytes] | None = None) -> bytes:
    """A DOCX ("word/document.xml") or XLSX ("xl/workbook.xml") package."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", OOXML_CONTENT_TYPES)
        archive.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships/>')
        archive.writestr(main_part, '<?xml version="1.0"?><document>Pôle coopératif</document>')
        for name, data in (extra_entries or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def docx_bytes() -> bytes:
    return ooxml_bytes("word/document.xml")


def xlsx_bytes() -> bytes:
    return ooxml_bytes("xl/workbook.xml")


def opendocument_bytes(mimetype: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), mimetype, compress_type=zipfile.ZIP_STORED)
        archive.writestr("content.xml", '<?xml version="1.0"?><office:document-content/>')
        archive.writestr("META-INF/manifest.xml", '<?xml version="1.0"?><manifest:manifest/>')
    return buffer.getvalue()


def odt_bytes() -> bytes:
    return opendocument_bytes("application/vnd.oasis.opendocument.text")


def ods_bytes() -> bytes:
    return opendocument_bytes("application/vnd.oasis.opendocument.spreadsheet")


ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(56)
WINDOWS_EXE = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(50) + b"This program cannot be run in DOS mode."
)
MACH_O = b"\xcf\xfa\xed\xfe\x07\x00\x00\x01" + bytes(24)


def upload(data: bytes, name: str = "document.pdf", content_type: str = "application/pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def refusal(data: bytes, name: str = "document.pdf", max_bytes: int = MAX) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        inspect_upload(upload(data, name), max_bytes=max_bytes)
    return caught.value


# --- Accepted kinds ---


@pytest.mark.parametrize(
    ("build", "extension", "content_type"),
    [
        (pdf_bytes, "pdf", "application/pdf"),
        (lambda: image_bytes("PNG"), "png", "image/png"),
        (lambda: image_bytes("JPEG"), "jpg", "image/jpeg"),
        (docx_bytes, "docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        (xlsx_bytes, "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (odt_bytes, "odt", "application/vnd.oasis.opendocument.text"),
        (ods_bytes, "ods", "application/vnd.oasis.opendocument.spreadsheet"),
    ],
)
def test_accepted_kind_is_recognised_by_content(build, extension, content_type):
    data = build()

    info = inspect_upload(upload(data, "pièce jointe.bin", "application/octet-stream"), max_bytes=MAX)

    assert (info.content_type, info.extension, info.size, info.sha256, info.safe_name) == (
        content_type,
        extension,
        len(data),
        hashlib.sha256(data).hexdigest(),
        f"pièce jointe.{extension}",
    )


def test_real_pdf_named_docx_is_accepted_as_pdf():
    info = inspect_upload(upload(pdf_bytes(), "x.docx", "application/msword"), max_bytes=MAX)

    assert (info.content_type, info.safe_name) == ("application/pdf", "x.pdf")


def test_inspected_file_is_left_at_its_start():
    data = docx_bytes()
    uploaded = upload(data, "budget.docx")

    inspect_upload(uploaded, max_bytes=MAX)

    assert uploaded.read() == data


def test_hash_covers_every_chunk_of_a_large_file():
    data = pdf_bytes(size=3 * SimpleUploadedFile.DEFAULT_CHUNK_SIZE + 17)

    info = inspect_upload(upload(data), max_bytes=MAX)

    assert (info.size, info.sha256) == (len(data), hashlib.sha256(data).hexdigest())


# --- Refused kinds ---


@pytest.mark.parametrize("data", [ELF, WINDOWS_EXE, MACH_O], ids=["elf", "windows", "mach-o"])
def test_executable_renamed_pdf_is_refused(data):
    error = refusal(data, "rapport.pdf")

    assert (error.code, error.messages) == (
        "executable",
        ["Ce fichier est un programme exécutable : il ne peut pas être déposé."],
    )


def test_script_is_refused():
    error = refusal(b"#!/bin/sh\nrm -rf /\n", "budget.pdf")

    assert error.code == "script"


@pytest.mark.parametrize(
    "data",
    [
        b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>",
        b'\xef\xbb\xbf  <svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
        b'<?xml version="1.0"?><note>bonjour</note>',
    ],
    ids=["html", "svg", "xml"],
)
def test_markup_is_refused(data):
    error = refusal(data, "statuts.pdf")

    assert error.code == "markup"


def test_html_behind_a_png_signature_is_refused():
    error = refusal(b"\x89PNG\r\n\x1a\n<html><script>alert(document.cookie)</script></html>", "logo.png")

    assert (error.code, error.messages) == (
        "disguised",
        ["Ce fichier se présente comme une image PNG mais n'en est pas une : il est refusé."],
    )


def test_png_with_a_script_in_its_first_kilobyte_is_refused():
    png = image_bytes("PNG")
    # A text chunk right after IHDR (8-byte signature + 25-byte IHDR chunk); CRC left out.
    data = png[:33] + b"\x00\x00\x00\x19tEXt<script>alert(1)</script>" + png[33:]

    error = refusal(data, "logo.png")

    assert error.code == "disguised"


def test_jpeg_with_html_in_its_first_kilobyte_is_refused():
    jpeg = image_bytes("JPEG")
    data = jpeg[:2] + b"\xff\xfe\x00\x0e<html><body>" + jpeg[2:]  # a comment segment

    error = refusal(data, "photo.jpg")

    assert error.code == "disguised"


def test_pdf_that_is_also_a_zip_is_refused():
    buffer = io.BytesIO(pdf_bytes())
    buffer.seek(0, io.SEEK_END)
    with zipfile.ZipFile(buffer, "a") as archive:
        archive.writestr("payload.html", "<script>alert(1)</script>")

    error = refusal(buffer.getvalue(), "rapport.pdf")

    assert error.code == "polyglot"


def docx_hiding_a_pdf() -> bytes:
    """A valid DOCX whose first entry, stored uncompressed, starts a PDF: PDF readers look for
    the header in the first kilobyte, so a reader would open this "document" as a PDF."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("a.bin"), pdf_bytes(), compress_type=zipfile.ZIP_STORED)
        archive.writestr("[Content_Types].xml", OOXML_CONTENT_TYPES)
        archive.writestr("word/document.xml", "<document/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("build", "name"),
    [
        (docx_hiding_a_pdf, "budget.docx"),
        (lambda: image_bytes("JPEG")[:2] + b"\xff\xfe\x00\x12%PDF-1.7 obj  " + image_bytes("JPEG")[2:], "photo.jpg"),
    ],
    ids=["docx", "jpeg"],
)
def test_document_or_image_hiding_a_pdf_header_is_refused(build, name):
    data = build()
    assert b"%PDF-" in data[:1024]

    error = refusal(data, name)

    assert (error.code, error.messages) == (
        "polyglot",
        [
            "Ce fichier contient aussi un document PDF caché : il est refusé par sécurité. "
            "Enregistrez-le de nouveau depuis votre logiciel."
        ],
    )


def test_pdf_with_zip_signature_bytes_by_chance_is_accepted():
    # Compressed streams contain any byte sequence sooner or later, "PK\x03\x04" included.
    data = pdf_bytes().replace(b"%%EOF", b"% PK\x03\x04\x14\x00 in a stream\n%%EOF")

    info = inspect_upload(upload(data), max_bytes=MAX)

    assert info.content_type == "application/pdf"


def test_small_repetitive_spreadsheet_part_is_not_taken_for_a_bomb():
    data = ooxml_bytes("xl/workbook.xml", {"xl/worksheets/sheet1.xml": b"<c>0</c>" * 100_000})

    info = inspect_upload(upload(data, "tableau.xlsx"), max_bytes=MAX)

    assert info.extension == "xlsx"


def test_docx_zip_bomb_is_refused_without_extracting():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", OOXML_CONTENT_TYPES)
        archive.writestr("word/document.xml", "<document/>")
        with archive.open("word/media/zeros.bin", "w", force_zip64=True) as entry:
            for _ in range(200):
                entry.write(bytes(1024 * 1024))
    data = buffer.getvalue()
    assert len(data) < 1024 * 1024  # 200 MB once decompressed

    error = refusal(data, "budget.docx")

    assert (error.code, error.messages) == (
        "zip_bomb",
        ["Ce document contient des données anormalement compressées : il est refusé par sécurité."],
    )


def test_docx_with_an_entry_compressed_over_a_hundred_times_is_refused():
    data = ooxml_bytes("word/document.xml", {"word/media/zeros.bin": bytes(2 * 1024 * 1024)})

    error = refusal(data, "budget.docx")

    assert error.code == "zip_bomb"


@pytest.mark.parametrize("main_part", ["word/document.xml", "xl/workbook.xml"], ids=["docx", "xlsx"])
def test_office_document_with_more_than_a_thousand_entries_is_refused(main_part):
    folder = main_part.split("/")[0]
    data = ooxml_bytes(main_part, {f"{folder}/part{index}.xml": b"" for index in range(1000)})

    error = refusal(data, "budget.docx")

    assert (error.code, error.messages) == (
        "zip_bomb",
        ["Ce document contient trop de fichiers internes (plus de 1000) : il est refusé."],
    )


def test_office_document_with_exactly_a_thousand_entries_is_accepted():
    data = ooxml_bytes("xl/workbook.xml", {f"xl/part{index}.xml": b"" for index in range(997)})

    assert inspect_upload(upload(data, "tableau.xlsx"), max_bytes=MAX).extension == "xlsx"


def opendocument_bomb(mimetype: str, *, entries: int = 0, zeros_mb: int = 0) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), mimetype, compress_type=zipfile.ZIP_STORED)
        archive.writestr("content.xml", '<?xml version="1.0"?><office:document-content/>')
        for index in range(entries):
            archive.writestr(f"Pictures/{index}.xml", b"")
        if zeros_mb:
            with archive.open("Pictures/zeros.bin", "w", force_zip64=True) as entry:
                for _ in range(zeros_mb):
                    entry.write(bytes(1024 * 1024))
    return buffer.getvalue()


@pytest.mark.parametrize(
    "build",
    [
        lambda: opendocument_bomb("application/vnd.oasis.opendocument.text", zeros_mb=101),
        lambda: opendocument_bomb("application/vnd.oasis.opendocument.text", entries=1000),
        lambda: opendocument_bomb("application/vnd.oasis.opendocument.spreadsheet", zeros_mb=101),
        lambda: ooxml_bytes("xl/workbook.xml", {"xl/media/zeros.bin": bytes(101 * 1024 * 1024)}),
    ],
    ids=["odt-size", "odt-entries", "ods-size", "xlsx-size"],
)
def test_opendocument_and_spreadsheet_bombs_are_refused(build):
    data = build()
    assert len(data) < 1024 * 1024

    assert refusal(data, "document.odt").code == "zip_bomb"


def test_zip_that_is_no_office_document_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("setup.exe", ELF)

    error = refusal(buffer.getvalue(), "budget.docx")

    assert error.code == "unsupported"


def test_damaged_zip_is_refused():
    error = refusal(docx_bytes()[:200], "budget.docx")

    assert error.code == "damaged"


def test_unknown_content_is_refused():
    error = refusal(b"Bonjour, voici nos statuts.", "statuts.pdf")

    assert error.messages == [
        "Le contenu de ce fichier ne correspond à aucun format accepté (PDF, PNG, JPEG, DOCX, XLSX, ODT ou ODS)."
    ]


def test_empty_file_is_refused():
    assert refusal(b"").code == "empty"


def test_oversized_file_is_refused_with_the_limit_in_mo():
    error = refusal(pdf_bytes(size=MAX + 1), max_bytes=MAX)

    assert (error.code, error.messages) == ("too_large", ["Le fichier dépasse la taille maximale autorisée (10 Mo)."])


def test_file_at_the_limit_is_accepted():
    info = inspect_upload(upload(pdf_bytes(size=4096)), max_bytes=4096)

    assert info.size == 4096


@pytest.mark.parametrize(
    ("nbytes", "text"),
    [(10 * 1024 * 1024, "10 Mo"), (1536 * 1024, "1,5 Mo"), (3 * 1024, "3 Ko"), (500, "500 octets")],
)
def test_size_limit_is_written_the_french_way(nbytes, text):
    assert format_size_limit(nbytes) == text


# --- Names ---


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/statuts.pdf", "statuts.pdf"),
        ("..\\..\\Windows\\statuts.pdf", "statuts.pdf"),
        ("sta\x00tuts\x07.pdf", "statuts.pdf"),
        ("facture\u202efdp.exe", "facturefdp.pdf"),
        ("\u2066budget\u2069 \u202aprévisionnel\u202c.pdf", "budget prévisionnel.pdf"),
        ("  Budget \t prévisionnel\n2014 .PDF", "Budget prévisionnel 2014.pdf"),
        ('a<b>:"c|?*.pdf', "a_b___c___.pdf"),
        ("Présentation du pôle.docx", "Présentation du pôle.pdf"),
        ("statuts", "statuts.pdf"),
        ("", "piece-jointe.pdf"),
        ("..", "piece-jointe.pdf"),
        (".pdf", "piece-jointe.pdf"),
        ("\u202e", "piece-jointe.pdf"),
    ],
)
def test_name_is_sanitised(name, expected):
    assert safe_name(name, "pdf") == expected


def test_long_name_is_cut_to_120_characters_keeping_the_extension():
    name = safe_name("é" * 300 + ".docx", "pdf")

    assert (len(name), name) == (120, "é" * 116 + ".pdf")


def test_inspection_gives_the_sanitised_name():
    info = inspect_upload(upload(pdf_bytes(), "..\\rap\u202eport\x00.docx"), max_bytes=MAX)

    assert info.safe_name == "rapport.pdf"


# --- Upload handler ---


def test_size_limit_handler_skips_a_file_as_soon_as_it_passes_the_limit():
    handler = SizeLimitUploadHandler(max_bytes=100)
    handler.new_file("file", "gros.pdf", "application/pdf", None)

    first = handler.receive_data_chunk(b"x" * 60, 0)
    with pytest.raises(SkipFile):
        handler.receive_data_chunk(b"x" * 60, 60)

    assert (first, handler.too_large) == (b"x" * 60, True)


def test_size_limit_handler_defaults_to_the_portal_limit(settings):
    settings.ATTACHMENT_MAX_BYTES = 1234

    assert SizeLimitUploadHandler().max_bytes == 1234


def test_size_limit_handler_skips_before_the_first_byte_when_the_request_announces_too_much():
    handler = SizeLimitUploadHandler(max_bytes=1000)
    handler.handle_raw_input(None, {}, 1000 + FORM_OVERHEAD_BYTES + 1, b"boundary")

    with pytest.raises(SkipFile):
        handler.new_file("file", "gros.pdf", "application/pdf", None)

    assert handler.too_large is True


def test_size_limit_handler_reads_a_request_within_the_overhead():
    handler = SizeLimitUploadHandler(max_bytes=1000)
    handler.handle_raw_input(None, {}, 1000 + FORM_OVERHEAD_BYTES, b"boundary")
    handler.new_file("file", "statuts.pdf", "application/pdf", None)

    assert (handler.receive_data_chunk(b"x" * 1000, 0), handler.too_large) == (b"x" * 1000, False)
