"""Exports of a call's dossiers and laureates: CSV, XLSX and PDF, from plain rows.

The caller builds one `ExportRow` per dossier (or a dict with the same keys); nothing here touches
the database. Text comes from applicants, so every export neutralises spreadsheet formulas:

- CSV: a text cell whose first character (after spaces, invisible characters and quotes) is one
  of = + - @ | tab CR LF, or their full-width forms, gets a leading apostrophe (OWASP); DDE payloads such as `=cmd|' /C calc'!A0`
  all start that way. Numbers we format ourselves are written as they are, so they stay numbers.
  The file targets French Excel: UTF-8 with a BOM, `;` between cells, CRLF line ends; amounts are
  plain integers in euros (no thousands separator, machine-readable) and scores use a decimal
  comma ("72,5"). One line per dossier and no totals line, so the file sorts and filters cleanly.
- XLSX: text cells are stored as strings (never formulas) with Excel's quote prefix on the
  dangerous ones, so the value stays the original text, inert even when a user edits the cell.
- Both: control characters that XML 1.0 cannot carry are dropped; in XLSX a carriage return
  becomes a line feed, as any XML reader would make it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from applications.documents import format_paris_datetime
from applications.pdf import render_pdf
from applications.sections import format_euros

PDF_TEMPLATE = "awards/pdf/laureates.html"
BOM = "\ufeff"
HEADERS = (
    "Numéro",
    "Pôle",
    "Structure porteuse",
    "SIRET",
    "Commune",
    "Département",
    "Région",
    "Priorité territoriale",
    "Maturité",
    "Secteurs",
    "Note moyenne",
    "Note calibrée",
    "Décision",
)
TEXT_FIELDS = (
    "reference",
    "pole",
    "lead_structure",
    "siret",
    "commune",
    "departement",
    "region",
    "territory_priority",
    "maturity",
    "sectors",
)
# What spreadsheets read as the start of a formula, ASCII and full-width (＝＋－＠｜). The pipe
# opens DDE links ("|calc") in some readers: no honest name starts with one.
FORMULA_STARTS = frozenset("=+-@|\t\r\n\uff1d\uff0b\uff0d\uff20\uff5c")
# Skipped before the check: readers trim spaces, ignore invisible format characters, and a
# quote may open a cell that a reader unquotes (« "=1+1 »).
_LEADING_QUOTES = frozenset("'\"\u2018\u2019\u201c\u201d\u00ab\u00bb\uff02\uff07")
EURO_FORMAT = '#,##0 "€"'
SCORE_FORMAT = "0.0"
CSV_CHUNK_ROWS = 200


@dataclass(frozen=True)
class ExportRow:
    reference: str  # Numéro
    pole: str
    lead_structure: str
    siret: str
    commune: str
    departement: str
    region: str
    territory_priority: str
    maturity: str
    sectors: str | tuple[str, ...]  # labels, joined with ", "
    mean_score: float | None
    calibrated_score: float | None
    decision: str  # label, e.g. "Lauréat"
    amounts: tuple[int, ...]  # euros, one per funding year

    @property
    def total(self) -> int:
        return sum(self.amounts)


def headers(years: Sequence[int | str]) -> list[str]:
    return [*HEADERS, *(f"Montant {year}" for year in years), "Total"]


def _row(value: ExportRow | Mapping[str, Any], years: Sequence[int | str]) -> ExportRow:
    row = value if isinstance(value, ExportRow) else ExportRow(**{**value, "amounts": tuple(value["amounts"])})
    if len(row.amounts) != len(years):
        raise ValueError(f"{row.reference}: {len(row.amounts)} amounts for {len(years)} funding years.")
    if any(not isinstance(amount, int) or isinstance(amount, bool) or amount < 0 for amount in row.amounts):
        raise ValueError(f"{row.reference}: amounts must be non-negative integers (euros).")
    return row


def _text(value: str | Sequence[str] | None) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else ", ".join(value)
    return ILLEGAL_CHARACTERS_RE.sub("", text)


def is_formula_like(text: str) -> bool:
    for char in text:
        if char in FORMULA_STARTS:
            return True
        if not (char.isspace() or char in _LEADING_QUOTES or unicodedata.category(char) == "Cf"):
            return False
    return False


def neutralise(text: str) -> str:
    """The text as a spreadsheet shows it literally: an apostrophe before a formula-like start."""
    return "'" + text if is_formula_like(text) else text


def format_score(score: float | None) -> str:
    """French decimal comma, at most two decimals: 72.5 -> "72,5"; None -> ""."""
    if score is None:
        return ""
    text = f"{score:.2f}".rstrip("0").rstrip(".")
    return ("0" if text == "-0" else text).replace(".", ",")


def _texts(row: ExportRow) -> list[str]:
    return [_text(getattr(row, name)) for name in TEXT_FIELDS]


# --- CSV ---


def _csv_lines(lines: Iterable[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";", lineterminator="\r\n").writerows(lines)
    return buffer.getvalue()


def _csv_line(row: ExportRow) -> list[str]:
    return [
        *(neutralise(text) for text in _texts(row)),
        format_score(row.mean_score),
        format_score(row.calibrated_score),
        neutralise(_text(row.decision)),
        *(str(amount) for amount in row.amounts),
        str(row.total),
    ]


def stream_csv(rows: Iterable[ExportRow | Mapping[str, Any]], years: Sequence[int | str]) -> Iterator[bytes]:
    """The CSV in chunks, for a StreamingHttpResponse: the BOM and the header come first."""
    yield (BOM + _csv_lines([[neutralise(header) for header in headers(years)]])).encode()
    batch = []
    for value in rows:
        batch.append(_csv_line(_row(value, years)))
        if len(batch) == CSV_CHUNK_ROWS:
            yield _csv_lines(batch).encode()
            batch = []
    if batch:
        yield _csv_lines(batch).encode()


def to_csv(rows: Iterable[ExportRow | Mapping[str, Any]], years: Sequence[int | str]) -> bytes:
    return b"".join(stream_csv(rows, years))


# --- XLSX ---


def _text_cell(sheet, text: str) -> WriteOnlyCell:
    # XML turns a bare carriage return into a line feed when the file is read: say so when writing.
    cell = WriteOnlyCell(sheet, value=text.replace("\r\n", "\n").replace("\r", "\n"))
    # openpyxl turns any string starting with "=" into a formula; "s" keeps it a string, and the
    # quote prefix keeps Excel from evaluating it when someone edits the cell.
    cell.data_type = "s"
    if is_formula_like(text):
        cell.quotePrefix = True
    return cell


def _number_cell(sheet, value, number_format: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=value)
    cell.number_format = number_format
    return cell


def write_xlsx(
    rows: Iterable[ExportRow | Mapping[str, Any]],
    years: Sequence[int | str],
    out,
    *,
    sheet_title: str = "Dossiers",
) -> None:
    """One typed sheet written to the binary file `out`: text as strings, scores and amounts as
    numbers, a frozen bold header, and a totals row computed here (no formula: nothing in the file
    is evaluated). openpyxl's write-only mode streams the rows to a temporary file as they come,
    so memory does not grow with their number."""
    workbook = Workbook(write_only=True)
    workbook.properties.creator = "Portail PTCE"
    sheet = workbook.create_sheet(sheet_title)
    columns = headers(years)
    # Set before the first row: write-only sheets write their views and columns first.
    sheet.freeze_panes = "A2"
    widths = [16, 32, 32, 16, 20, 12, 22, 22, 12, 30, 10, 10, 14] + [13] * (len(years) + 1)
    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width
    bold = Font(bold=True)
    header = []
    for text in columns:
        cell = _text_cell(sheet, text)
        cell.font = bold
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        header.append(cell)
    sheet.append(header)
    count, sums = 0, [0] * len(years)
    for value in rows:
        row = _row(value, years)
        count += 1
        sums = [total + amount for total, amount in zip(sums, row.amounts, strict=True)]
        sheet.append(
            [
                *(_text_cell(sheet, text) for text in _texts(row)),
                *(_number_cell(sheet, score, SCORE_FORMAT) for score in (row.mean_score, row.calibrated_score)),
                _text_cell(sheet, _text(row.decision)),
                *(_number_cell(sheet, amount, EURO_FORMAT) for amount in (*row.amounts, row.total)),
            ]
        )
    label = f"{count} dossier" if count < 2 else f"{count} dossiers"
    totals = [_text_cell(sheet, "Total"), _text_cell(sheet, label)]
    totals += [WriteOnlyCell(sheet) for _ in range(len(HEADERS) - 2)]
    totals += [_number_cell(sheet, amount, EURO_FORMAT) for amount in (*sums, sum(sums))]
    for cell in totals:
        cell.font = bold
    sheet.append(totals)
    if count:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{count + 1}"
    workbook.save(out)


def to_xlsx(
    rows: Iterable[ExportRow | Mapping[str, Any]], years: Sequence[int | str], *, sheet_title: str = "Dossiers"
) -> bytes:
    """`write_xlsx` into memory: the file's bytes."""
    buffer = io.BytesIO()
    write_xlsx(rows, years, buffer, sheet_title=sheet_title)
    return buffer.getvalue()


# --- PDF ---


def to_pdf(
    rows: Iterable[ExportRow | Mapping[str, Any]],
    years: Sequence[int | str],
    *,
    title: str,
    call_title: str,
    generated_at: dt.datetime,
) -> bytes:
    """A landscape A4 table with the same columns, amounts in French format, totals and page numbers.
    The bytes depend only on the arguments (the date shown is `generated_at`, not the clock)."""
    if generated_at.tzinfo is None:
        raise ValueError("generated_at must be timezone-aware.")
    rows = [_row(value, years) for value in rows]
    sums = [sum(row.amounts[year] for row in rows) for year in range(len(years))]
    context = {
        "title": title,
        "call_title": call_title,
        "generated_display": format_paris_datetime(generated_at),
        "created_w3c": generated_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "text_headers": HEADERS[: len(TEXT_FIELDS)],
        "years": [str(year) for year in years],
        "rows": [
            {
                "texts": _texts(row),
                "mean_score": format_score(row.mean_score),
                "calibrated_score": format_score(row.calibrated_score),
                "decision": _text(row.decision),
                "amounts": [format_euros(amount) for amount in row.amounts],
                "total": format_euros(row.total),
            }
            for row in rows
        ],
        "count": len(rows),
        "column_count": len(headers(years)),
        "sums": [format_euros(amount) for amount in sums],
        "grand_total": format_euros(sum(sums)),
    }
    return render_pdf(PDF_TEMPLATE, context, stylesheet_path="css/pdf-laureates.css")
