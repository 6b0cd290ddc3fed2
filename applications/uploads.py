"""What an uploaded file really is, decided by its content: never by its name or declared type.

Accepted kinds and how each is recognised (the first bytes and the structure, nothing else):

- PDF: starts with ``%PDF-`` and is not also a readable ZIP archive (a polyglot: one reader
  sees a document, another an archive). The test is the one ZIP readers use, a valid
  end-of-archive record, so the bytes ``PK`` occurring by chance in compressed streams do
  not refuse an honest PDF.
- PNG: the 8-byte signature followed at once by the IHDR chunk.
- JPEG: starts with the SOI marker ``FF D8 FF``.
- DOCX / XLSX: a ZIP archive holding ``[Content_Types].xml`` and ``word/`` (or ``xl/``) parts.
- ODT / ODS: a ZIP archive whose first entry, ``mimetype``, stored uncompressed, names the
  OpenDocument text (or spreadsheet) type.

Images are also refused when their first kilobyte holds ``<html`` or ``<script``: a browser
that sniffs content would otherwise run it as a web page. Any non-PDF is refused when its first
kilobyte holds ``%PDF-``: PDF readers look for the header that far, so such a file is also a PDF
(a polyglot: an image or a document for us, a PDF with its own scripts for a reader). ZIP-based documents are checked
against decompression bombs from their central directory only: nothing is ever extracted.
Everything else is refused, with a clearer message for executables, scripts and markup.

No database access here: the services call `inspect_upload`, views install
`SizeLimitUploadHandler`.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import zipfile
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadhandler import FileUploadHandler, SkipFile

ACCEPTED_FORMATS = "PDF, PNG, JPEG, DOCX, XLSX, ODT ou ODS"
# For the file picker only: the server decides by content.
ACCEPT_ATTRIBUTE = ".pdf,.png,.jpg,.jpeg,.docx,.xlsx,.odt,.ods"

HEAD_BYTES = 1024
ZIP_MAX_ENTRIES = 1000
ZIP_MAX_UNCOMPRESSED_BYTES = 100 * 1024 * 1024
ZIP_MAX_RATIO = 100
NAME_MAX_LENGTH = 120
DEFAULT_STEM = "piece-jointe"


@dataclass(frozen=True)
class Kind:
    content_type: str
    extension: str


PDF = Kind("application/pdf", "pdf")
PNG = Kind("image/png", "png")
JPEG = Kind("image/jpeg", "jpg")
DOCX = Kind("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx")
XLSX = Kind("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx")
ODT = Kind("application/vnd.oasis.opendocument.text", "odt")
ODS = Kind("application/vnd.oasis.opendocument.spreadsheet", "ods")
OPENDOCUMENT_KINDS = {kind.content_type.encode("ascii"): kind for kind in (ODT, ODS)}

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
ZIP_RATIO_MIN_BYTES = 1024 * 1024
EXECUTABLE_MAGICS = (
    b"MZ",  # Windows PE / DOS
    b"\x7fELF",  # Linux, BSD
    b"\xfe\xed\xfa\xce",  # Mach-O 32 and 64 bits, both byte orders
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",  # Mach-O universal binary (also a Java class)
)
MARKUP_IN_IMAGE = (b"<html", b"<script")


@dataclass(frozen=True)
class UploadInfo:
    content_type: str
    extension: str
    size: int
    sha256: str
    safe_name: str


def format_size_limit(nbytes: int) -> str:
    """A limit the French way: "10 Mo", "1,5 Mo", "500 Ko" (1 Mo = 1024 Ko = 1024 × 1024 octets)."""
    for unit, factor in (("Mo", 1024 * 1024), ("Ko", 1024)):
        if nbytes >= factor:
            text = f"{nbytes / factor:.1f}".removesuffix(".0").replace(".", ",")
            return f"{text} {unit}"
    return f"{nbytes} octets"


def size_error(max_bytes: int) -> ValidationError:
    return ValidationError(
        "Le fichier dépasse la taille maximale autorisée (%(limit)s).",
        code="too_large",
        params={"limit": format_size_limit(max_bytes)},
    )


def _refused(message: str, code: str) -> ValidationError:
    return ValidationError(message, code=code)


def check_declared_size(uploaded_file, *, max_bytes: int) -> None:
    """Refuse (ValidationError, French) a file whose declared size is over the limit, unread."""
    declared_size = getattr(uploaded_file, "size", None)
    if declared_size is not None and declared_size > max_bytes:
        raise size_error(max_bytes)


def inspect_upload(uploaded_file, *, max_bytes: int) -> UploadInfo:
    """Identify the file by its content, hash it and name it safely, or raise ValidationError (French).

    The file is read once, in chunks, for the size, the SHA-256 and the polyglot check; ZIP-based
    documents are then opened through their central directory. The file is left at position 0.
    """
    check_declared_size(uploaded_file, max_bytes=max_bytes)
    size, sha256, head = _scan(uploaded_file, max_bytes=max_bytes)
    if size == 0:
        raise _refused("Le fichier est vide.", "empty")
    try:
        kind = _identify(uploaded_file, head=head)
    finally:
        uploaded_file.seek(0)
    return UploadInfo(
        content_type=kind.content_type,
        extension=kind.extension,
        size=size,
        sha256=sha256,
        safe_name=safe_name(getattr(uploaded_file, "name", "") or "", kind.extension),
    )


def _scan(uploaded_file, *, max_bytes: int) -> tuple[int, str, bytes]:
    digest = hashlib.sha256()
    size = 0
    head = b""
    uploaded_file.seek(0)
    for chunk in uploaded_file.chunks():
        size += len(chunk)
        if size > max_bytes:
            raise size_error(max_bytes)
        digest.update(chunk)
        if len(head) < HEAD_BYTES:
            head += chunk[: HEAD_BYTES - len(head)]
    return size, digest.hexdigest(), head


def _identify(uploaded_file, *, head: bytes) -> Kind:
    kind = _identify_kind(uploaded_file, head=head)
    if kind is not PDF and b"%PDF-" in head:
        raise _refused(
            "Ce fichier contient aussi un document PDF caché : il est refusé par sécurité. "
            "Enregistrez-le de nouveau depuis votre logiciel.",
            "polyglot",
        )
    return kind


def _identify_kind(uploaded_file, *, head: bytes) -> Kind:
    if head.startswith(b"%PDF-"):
        uploaded_file.seek(0)
        if zipfile.is_zipfile(uploaded_file):
            raise _refused(
                "Ce PDF contient aussi une archive ZIP : il est refusé par sécurité. "
                "Enregistrez-le de nouveau depuis votre logiciel (« Imprimer » puis « PDF »).",
                "polyglot",
            )
        return PDF
    if head.startswith(PNG_SIGNATURE):
        # A real PNG starts with its IHDR chunk: length 13, then the type "IHDR".
        if head[8:16] != b"\x00\x00\x00\x0dIHDR":
            raise _refused(
                "Ce fichier se présente comme une image PNG mais n'en est pas une : il est refusé.", "disguised"
            )
        _refuse_markup_in_image(head)
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        _refuse_markup_in_image(head)
        return JPEG
    if head.startswith(b"PK\x03\x04"):
        return _identify_zip(uploaded_file)
    _refuse_dangerous(head)
    raise _refused(
        f"Le contenu de ce fichier ne correspond à aucun format accepté ({ACCEPTED_FORMATS}).", "unsupported"
    )


def _refuse_markup_in_image(head: bytes) -> None:
    lowered = head.lower()
    if any(marker in lowered for marker in MARKUP_IN_IMAGE):
        raise _refused("Cette image contient une page web ou un script : elle est refusée.", "disguised")


def _refuse_dangerous(head: bytes) -> None:
    if head.startswith(EXECUTABLE_MAGICS):
        raise _refused("Ce fichier est un programme exécutable : il ne peut pas être déposé.", "executable")
    if head.startswith(b"#!"):
        raise _refused("Ce fichier est un script : il ne peut pas être déposé.", "script")
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if text.startswith(b"<"):
        raise _refused(
            "Les pages web et les fichiers HTML, SVG ou XML ne sont pas acceptés : "
            f"déposez un document {ACCEPTED_FORMATS}.",
            "markup",
        )


def _identify_zip(uploaded_file) -> Kind:
    try:
        uploaded_file.seek(0)
        # ZipFile reads the central directory only; entries are never decompressed, except the
        # few stored bytes of an OpenDocument "mimetype" entry.
        with zipfile.ZipFile(uploaded_file) as archive:
            entries = archive.infolist()
            _refuse_zip_bomb(entries)
            if entries and entries[0].filename == "mimetype":
                first = entries[0]
                if first.compress_type == zipfile.ZIP_STORED and first.file_size <= 100:
                    kind = OPENDOCUMENT_KINDS.get(archive.read(first))
                    if kind:
                        return kind
            names = [entry.filename for entry in entries]
            if "[Content_Types].xml" in names:
                has_word = any(name.startswith("word/") for name in names)
                has_xl = any(name.startswith("xl/") for name in names)
                if has_word != has_xl:
                    return DOCX if has_word else XLSX
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        NotImplementedError,
        RuntimeError,
        EOFError,
        OSError,
        ValueError,
    ) as error:
        raise _refused("Ce document est endommagé ou chiffré : il ne peut pas être lu.", "damaged") from error
    raise _refused(
        f"Cette archive n'est pas un document accepté ({ACCEPTED_FORMATS}) : elle est refusée.", "unsupported"
    )


def _refuse_zip_bomb(entries: list[zipfile.ZipInfo]) -> None:
    bomb_message = "Ce document contient des données anormalement compressées : il est refusé par sécurité."
    if len(entries) > ZIP_MAX_ENTRIES:
        raise _refused(
            f"Ce document contient trop de fichiers internes (plus de {ZIP_MAX_ENTRIES}) : il est refusé.", "zip_bomb"
        )
    if sum(entry.file_size for entry in entries) > ZIP_MAX_UNCOMPRESSED_BYTES:
        raise _refused(bomb_message, "zip_bomb")
    for entry in entries:
        # Declared sizes from the central directory. Small entries may compress very well
        # (a repetitive spreadsheet): the ratio only matters once an entry is large.
        if entry.file_size > ZIP_RATIO_MIN_BYTES and entry.file_size > ZIP_MAX_RATIO * entry.compress_size:
            raise _refused(bomb_message, "zip_bomb")


_NAME_FORBIDDEN = re.compile(r'[<>:"|?*]')
_OLD_EXTENSION = re.compile(r"[A-Za-z0-9]{1,10}")


def safe_name(name: str, extension: str) -> str:
    """A display and download name: last path segment, no invisible or control characters, the
    extension of the detected type, at most NAME_MAX_LENGTH characters; accents are kept.

    Unicode category C covers NUL and control characters as well as the bidirectional overrides
    U+202A–U+202E and U+2066–U+2069, with which "facture<U+202E>fdp.exe" displays as "factureexe.pdf".
    """
    name = re.sub(r"\s+", " ", unicodedata.normalize("NFC", name or ""))
    name = "".join(char for char in name if not unicodedata.category(char).startswith("C"))
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(" +", " ", _NAME_FORBIDDEN.sub("_", name)).strip()
    stem, dot, old_extension = name.rpartition(".")
    if dot and _OLD_EXTENSION.fullmatch(old_extension):
        name = stem
    suffix = f".{extension}"
    stem = name.strip(" .")[: NAME_MAX_LENGTH - len(suffix)].rstrip(" .")
    return f"{stem or DEFAULT_STEM}{suffix}"


# Room for the form's other fields and the multipart headers around the file.
FORM_OVERHEAD_BYTES = 64 * 1024


class SizeLimitUploadHandler(FileUploadHandler):
    """First upload handler of a request: skips a file that cannot fit in `max_bytes`.

    When the request announces a body larger than the limit plus the form's overhead, the file is
    skipped before its first byte; otherwise as soon as more than `max_bytes` arrive. Either way
    the handlers behind it (memory, temporary file) never receive more than the limit, so a 100 MB
    upload fills neither memory nor disk; the rest of the body is read and discarded, so that the
    browser gets the page with the message rather than a reset connection. The file is then
    missing from request.FILES and `too_large` tells the view why.
    """

    def __init__(self, request=None, *, max_bytes: int | None = None):
        super().__init__(request)
        self.max_bytes = settings.ATTACHMENT_MAX_BYTES if max_bytes is None else max_bytes
        self.too_large = False
        self.request_too_large = False

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        self.request_too_large = content_length > self.max_bytes + FORM_OVERHEAD_BYTES
        return None

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        if self.request_too_large:
            self.too_large = True
            raise SkipFile

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        if start + len(raw_data) > self.max_bytes:
            self.too_large = True
            raise SkipFile
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None
