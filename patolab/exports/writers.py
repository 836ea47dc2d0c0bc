"""Streaming table writers: CSV (UTF-8 with BOM) and XLSX, row by row to a
binary file, in constant memory whatever the number of rows.

The XLSX writer emits SpreadsheetML directly into a deflated zip entry (the
minimal package: content types, workbook, styles, one sheet). It exists because
the general-purpose libraries spend most of their time in per-cell Python
objects: measured here for 100,000 × 21 typed cells, openpyxl's write-only mode
took ~20 s and XlsxWriter's constant_memory mode ~10.5 s against ~2 s for this
writer, while the export target is 10 s. What it writes is read back with
openpyxl in the tests (types, number formats, frozen header, autofilter, widths).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import IO, Any, Literal
from zoneinfo import ZoneInfo

from django.conf import settings

# Part of every export's fingerprint: bump when the files' layout changes.
WRITER_VERSION = "exports-1"

Kind = Literal["text", "int", "number", "money", "date", "datetime"]


@dataclass(frozen=True)
class Column:
    header: Any  # str or a lazy translation
    kind: Kind = "text"
    width: float = 14
    # Text the system writes (codes, choice labels): never starts a formula,
    # so the CSV writer passes it through untouched.
    safe: bool = False


CHUNK_ROWS = 500  # rows joined per write (bounded memory, few syscalls)


def _local_naive(value: datetime) -> datetime:
    """Spreadsheets have no time zones: show the lab's local time."""
    if value.tzinfo is not None:
        value = value.astimezone(ZoneInfo(settings.TIME_ZONE)).replace(tzinfo=None)
    return value


# ---------------------------------------------------------------- CSV
_FORMULA_START = "=+-@\t\r"


def _csv_converters(
    columns: Sequence[Column], *, decimal_comma: bool
) -> list[tuple[int, Callable[[Any], Any]]]:
    """(column index, converter) for the columns that need one: a kind
    dispatch per cell costs seconds at 100,000 rows, and the csv module
    already writes None as an empty field."""

    def text(value: Any) -> str:
        if value is None:
            return ""
        cell: str = value if type(value) is str else str(value)
        # Spreadsheet programs run a cell that starts with "=" (and friends) as
        # a formula; the text comes from users, so neutralise it (CSV injection).
        return "'" + cell if cell and cell[0] in _FORMULA_START else cell

    def stamp(value: Any) -> str:
        if value is None:
            return ""
        return str(_local_naive(value).isoformat(" ", "minutes"))

    def day(value: Any) -> str:
        return "" if value is None else str(value.isoformat())

    def decimal(value: Any) -> str:
        if value is None:
            return ""
        formatted = f"{value:.2f}"
        return formatted.replace(".", ",") if decimal_comma else formatted

    by_kind: dict[str, Callable[[Any], Any]] = {
        "text": text,
        "datetime": stamp,
        "date": day,
        "money": decimal,
        "number": decimal,
    }
    return [
        (index, by_kind[c.kind])
        for index, c in enumerate(columns)
        if c.kind in by_kind and not (c.kind == "text" and c.safe)
    ]


def write_csv(
    out: IO[bytes],
    columns: Sequence[Column],
    rows: Iterable[Sequence[Any]],
    *,
    delimiter: str = ",",
    on_chunk: Callable[[int], None] | None = None,
) -> int:
    """Write a CSV with a UTF-8 BOM (so Excel reads accents right). With `;`
    (Excel in es-AR) decimals use a comma. Dates are ISO (YYYY-MM-DD, and
    `YYYY-MM-DD HH:MM` local time). Returns the number of data rows."""
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=False)
    writer = csv.writer(text, delimiter=delimiter)
    writer.writerow([str(c.header) for c in columns])
    converters = _csv_converters(columns, decimal_comma=delimiter == ";")
    count = 0
    batch: list[list[Any]] = []
    width = len(columns)
    for row in rows:
        if len(row) != width:
            raise ValueError(f"row of {len(row)} values for {width} columns")
        values = list(row)
        for index, convert in converters:
            values[index] = convert(values[index])
        batch.append(values)
        if len(batch) >= CHUNK_ROWS:
            writer.writerows(batch)
            count += len(batch)
            batch = []
            if on_chunk:
                on_chunk(count)
    writer.writerows(batch)
    count += len(batch)
    text.flush()
    text.detach()  # leave `out` open for the caller
    return count


# ---------------------------------------------------------------- XLSX
_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    f'<Relationships xmlns="{_PKG_REL_NS}">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    f'<Relationships xmlns="{_PKG_REL_NS}">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>'
    "</Relationships>"
)
# Cell styles (cellXfs index): 0 default, 1 bold header, 2 date, 3 date-time,
# 4 money, 5 number with two decimals, 6 integer.
STYLE = {"header": 1, "date": 2, "datetime": 3, "money": 4, "number": 5, "int": 6}
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    f'<styleSheet xmlns="{_MAIN_NS}">'
    '<numFmts count="4">'
    '<numFmt numFmtId="164" formatCode="dd/mm/yyyy"/>'
    '<numFmt numFmtId="165" formatCode="dd/mm/yyyy hh:mm"/>'
    '<numFmt numFmtId="166" formatCode="&quot;$&quot; #,##0.00"/>'
    '<numFmt numFmtId="167" formatCode="0.00"/>'
    "</numFmts>"
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="7">'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="166" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="167" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="1" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)

# Characters XML 1.0 cannot carry at all (a pasted control character must not
# make the whole workbook unreadable).
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_XML_SPECIAL = re.compile("[&<>\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_EXCEL_EPOCH = datetime(1899, 12, 30)  # noqa: DTZ001 - Excel serials are naive
_EXCEL_EPOCH_DATE = _EXCEL_EPOCH.date()


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _xml_text(value: str) -> str:
    if _XML_SPECIAL.search(value):  # rare: one C-level scan for the common case
        value = _ILLEGAL_XML.sub("", value)
        value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if value and (value[0].isspace() or value[-1].isspace()):
        return f'<is><t xml:space="preserve">{value}</t></is>'
    return f"<is><t>{value}</t></is>"


def _xlsx_converters(columns: Sequence[Column]) -> list[Callable[[str, Any], str]]:
    """One cell writer per column: (cell reference, value) -> `<c>` XML."""

    def text(ref: str, value: Any) -> str:
        if value is None or value == "":
            return ""
        return f'<c r="{ref}" t="inlineStr">{_xml_text(str(value))}</c>'

    def stamp(ref: str, value: Any) -> str:
        if value is None:
            return ""
        # Whole seconds (timedelta.seconds): a double cannot hold microseconds.
        delta = _local_naive(value) - _EXCEL_EPOCH
        return f'<c r="{ref}" s="3"><v>{delta.days + delta.seconds / 86400!r}</v></c>'

    def day(ref: str, value: Any) -> str:
        if value is None:
            return ""
        return f'<c r="{ref}" s="2"><v>{(value - _EXCEL_EPOCH_DATE).days}</v></c>'

    def money(ref: str, value: Any) -> str:
        if value is None:
            return ""
        return f'<c r="{ref}" s="4"><v>{Decimal(value):f}</v></c>'

    def number(ref: str, value: Any) -> str:
        return "" if value is None else f'<c r="{ref}" s="5"><v>{value!r}</v></c>'

    def integer(ref: str, value: Any) -> str:
        return "" if value is None else f'<c r="{ref}" s="6"><v>{int(value)}</v></c>'

    by_kind: dict[str, Callable[[str, Any], str]] = {
        "text": text,
        "datetime": stamp,
        "date": day,
        "money": money,
        "number": number,
        "int": integer,
    }
    return [by_kind[c.kind] for c in columns]


def write_xlsx(
    out: IO[bytes],
    columns: Sequence[Column],
    rows: Iterable[Sequence[Any]],
    *,
    sheet_name: str = "Datos",
    on_chunk: Callable[[int], None] | None = None,
) -> int:
    """Write a one-sheet workbook: bold header row frozen, an autofilter over
    the data, column widths, typed cells (dates as dates, amounts as numbers
    with a currency format). Returns the number of data rows."""
    letters = [column_letter(i) for i in range(len(columns))]
    converters = _xlsx_converters(columns)
    sheet_name = _ILLEGAL_XML.sub("", sheet_name)[:31] or "Datos"
    count = 0
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as package:
        package.writestr("[Content_Types].xml", _CONTENT_TYPES)
        package.writestr("_rels/.rels", _ROOT_RELS)
        package.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        package.writestr("xl/styles.xml", _STYLES)
        with package.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            cols = "".join(
                f'<col min="{i + 1}" max="{i + 1}" width="{c.width}" customWidth="1"/>'
                for i, c in enumerate(columns)
            )
            header = "".join(
                f'<c r="{letters[i]}1" t="inlineStr" s="1">{_xml_text(str(c.header))}</c>'
                for i, c in enumerate(columns)
            )
            sheet.write(
                (
                    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                    f'<worksheet xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}">'
                    '<sheetViews><sheetView workbookViewId="0">'
                    '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
                    '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/>'
                    "</sheetView></sheetViews>"
                    f"<cols>{cols}</cols><sheetData>"
                    f'<row r="1">{header}</row>'
                ).encode()
            )
            batch: list[str] = []
            number = 1
            for row in rows:
                number += 1
                suffix = str(number)
                cells = "".join(
                    [
                        convert(letter + suffix, value)
                        for letter, convert, value in zip(
                            letters, converters, row, strict=True
                        )
                    ]
                )
                batch.append(f'<row r="{number}">{cells}</row>')
                if len(batch) >= CHUNK_ROWS:
                    sheet.write("".join(batch).encode())
                    count += len(batch)
                    batch = []
                    if on_chunk:
                        on_chunk(count)
            sheet.write("".join(batch).encode())
            count += len(batch)
            last = f"{letters[-1]}{count + 1}"
            sheet.write(
                f'</sheetData><autoFilter ref="A1:{last}"/></worksheet>'.encode()
            )
        package.writestr(
            "xl/workbook.xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<workbook xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}">'
            f'<sheets><sheet name="{_xml_attr(sheet_name)}" sheetId="1" r:id="rId1"/></sheets>'
            "<definedNames>"
            '<definedName name="_xlnm._FilterDatabase" localSheetId="0" hidden="1">'
            f"'{_xml_attr(sheet_name)}'!$A$1:${letters[-1]}${count + 1}"
            "</definedName></definedNames></workbook>",
        )
    return count


def _xml_attr(value: str) -> str:
    return (
        value.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
    )
