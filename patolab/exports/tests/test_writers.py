"""The streaming writers, read back with the libraries a user's tools use."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from openpyxl import load_workbook

from patolab.exports.writers import Column, column_letter, write_csv, write_xlsx

TZ = ZoneInfo("America/Argentina/Buenos_Aires")
COLUMNS = [
    Column("Número", width=12),
    Column("Animal", width=20),
    Column("Toma", "date", 13),
    Column("Recibido", "datetime", 16),
    Column("Demora (días)", "number", 9),
    Column("Total", "money", 14),
    Column("Protocolos", "int", 10),
]
ROWS = [
    ("HP 26/001", "Ñandú «Pichón» & <Cía>", date(2026, 3, 4),
     datetime(2026, 3, 5, 13, 30, tzinfo=ZoneInfo("UTC")), 2.5, Decimal("1234.56"), 3),
    ("CT 26/002", "=HYPERLINK(\"x\")", None, None, None, Decimal("0.10"), 0),
    ("", " espacios ", date(2026, 1, 1), None, 10.25, Decimal("-5.00"), 1),
]  # fmt: skip


def test_xlsx_is_a_real_workbook_with_typed_cells_frozen_header_filter_and_widths():
    out = io.BytesIO()
    assert write_xlsx(out, COLUMNS, iter(ROWS), sheet_name="Protocolos") == 3
    wb = load_workbook(io.BytesIO(out.getvalue()))
    ws = wb["Protocolos"]
    assert [c.value for c in ws[1]] == [c.header for c in COLUMNS]
    assert ws[1][0].font.b
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:G4"
    assert ws.column_dimensions["B"].width == 20
    first = [c.value for c in ws[2]]
    assert first[:2] == ["HP 26/001", "Ñandú «Pichón» & <Cía>"]
    assert first[2] == datetime(2026, 3, 4)  # a date cell (openpyxl reads datetimes)
    assert ws["C2"].is_date
    assert ws["C2"].number_format == "dd/mm/yyyy"
    # 13:30 UTC is 10:30 in Buenos Aires: spreadsheets show the lab's time.
    assert first[3] == datetime(2026, 3, 5, 10, 30)
    assert ws["D2"].is_date
    assert first[4] == 2.5
    assert first[5] == 1234.56
    assert ws["F2"].number_format == '"$" #,##0.00'
    assert first[6] == 3
    assert ws["G2"].data_type == "n"
    second = [c.value for c in ws[3]]
    assert second[1] == '=HYPERLINK("x")'  # text, never a formula
    assert ws["B3"].data_type == "s"
    assert second[2:5] == [None, None, None]
    assert [c.value for c in ws[4]][1] == " espacios "


def test_xlsx_drops_characters_xml_cannot_carry():
    out = io.BytesIO()
    write_xlsx(out, [Column("A")], [("bell\x07 and\x00 nul",)])
    ws = load_workbook(io.BytesIO(out.getvalue())).active
    assert ws["A2"].value == "bell and nul"


def test_csv_starts_with_a_bom_and_round_trips_accents():
    out = io.BytesIO()
    assert write_csv(out, COLUMNS, iter(ROWS)) == 3
    data = out.getvalue()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == [c.header for c in COLUMNS]
    assert rows[1] == [
        "HP 26/001", "Ñandú «Pichón» & <Cía>", "2026-03-04", "2026-03-05 10:30",
        "2.50", "1234.56", "3",
    ]  # fmt: skip
    assert rows[2][1] == '\'=HYPERLINK("x")'  # not run as a formula by Excel
    assert rows[3][5] == "-5.00"  # a number, not text: left as it is


def test_csv_with_semicolons_uses_decimal_commas_for_excel_in_spanish():
    out = io.BytesIO()
    write_csv(out, COLUMNS, iter(ROWS), delimiter=";")
    rows = list(
        csv.reader(io.StringIO(out.getvalue().decode("utf-8-sig")), delimiter=";")
    )
    assert rows[1][4:6] == ["2,50", "1234,56"]


def test_column_letters():
    assert [column_letter(i) for i in (0, 25, 26, 51, 52, 701, 702)] == [
        "A", "Z", "AA", "AZ", "BA", "ZZ", "AAA",
    ]  # fmt: skip
