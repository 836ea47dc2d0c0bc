"""Pure work-order PDF renderer: `render_work_order(data) -> bytes`.

No queries, no writes: `documents.workorder_document()` loads the data. Output
is deterministic (ReportLab `invariant=1`, fixed metadata), so the same data
always gives the same bytes and the same SHA-256.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import SimpleDocTemplate, Spacer

from patolab.core.pdf.fonts import BOLD, REGULAR, claim_glyphs, register_fonts
from patolab.core.pdf.styles import BRAND, MUTED, format_decimal, format_money
from patolab.core.pdf.text import (
    Column,
    FieldGrid,
    Runs,
    Table,
    TableColumn,
    TableStyle,
    TextBlock,
    TextRun,
    draw_runs,
    lines_height,
    paragraph_lines,
    text_width,
)

# Part of the fingerprint: bump it when the layout changes so cached PDFs are
# regenerated with the new look.
RENDERER_VERSION = "workorder-pdf/3"


@dataclass(frozen=True)
class PdfProtocol:
    code: str
    analysis: str
    animal: str
    received: str


@dataclass(frozen=True)
class PdfLine:
    code: str
    description: str
    quantity: int
    unit_price: Decimal
    discount_percent: Decimal
    amount: Decimal


@dataclass(frozen=True)
class WorkOrderDocument:
    """Everything the PDF prints (and nothing else): its canonical JSON is the
    fingerprint of the cached file."""

    lab_name: str
    number: str
    status: str
    date: str
    veterinarian: str
    veterinarian_license: str
    veterinarian_contact: str
    billing_name: str
    cuit: str
    tax_condition: str
    tax_discriminated: bool
    protocols: tuple[PdfProtocol, ...]
    lines: tuple[PdfLine, ...]
    subtotal: Decimal
    discount_total: Decimal
    net: Decimal
    tax_total: Decimal
    total: Decimal
    advance_payment: Decimal
    balance: Decimal
    notes: str


PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN_X = 18 * mm
MARGIN_Y = 16 * mm
WIDTH = PAGE_WIDTH - 2 * MARGIN_X
CELL = 8.5

_TABLE = TableStyle(
    font=REGULAR,
    bold=BOLD,
    size=CELL,
    leading=10.5,
    padding=3.0,
    side=3.5,
    header_color=BRAND,
    header_text=colors.white,
    rule=colors.HexColor("#d5dbe1"),
)


def _heading(title: str) -> TextBlock:
    return TextBlock(
        paragraph_lines(
            title, font=BOLD, size=11, leading=15, width=WIDTH, color=BRAND, gap=8
        )
    )


def _header(data: WorkOrderDocument) -> Runs:
    """Lab name on the left (wrapping), the document's identity on the right."""
    name = paragraph_lines(
        data.lab_name, font=BOLD, size=15, leading=19, width=0.6 * WIDTH, color=BRAND
    )
    right = [("ORDEN DE TRABAJO", BOLD)] + [
        (text, REGULAR)
        for text in (
            f"N.º {data.number}",
            f"Fecha: {data.date}",
            f"Estado: {data.status}",
        )
    ]
    height = max(lines_height(name), 12.0 * len(right)) + 6
    runs = []
    y = height
    for line in name:
        y -= line.leading
        runs.append(TextRun(line.x, y + 4.5, line.font, line.size, line.text, BRAND))
    y = height
    for text, font in right:
        text = str(text)
        y -= 12.0
        x = WIDTH - text_width(text, font, 9.5)
        runs.append(TextRun(x, y + 2.5, font, 9.5, text))
    return Runs(height, runs, [(0, WIDTH, 0.5, 1.0, BRAND)])


def render_work_order(data: WorkOrderDocument) -> bytes:
    """A4 work order: lab header, number, status, veterinarian and billing data,
    protocols, priced lines, IVA per condition, advance payment and totals."""
    register_fonts()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN_X,
        rightMargin=MARGIN_X,
        topMargin=MARGIN_Y,
        bottomMargin=MARGIN_Y,
        title=f"Orden de trabajo {data.number}",
        author=data.lab_name,
        subject="Orden de trabajo",
        creator="Patolab",
        invariant=1,
        initialFontName=REGULAR,
    )
    story: list[Any] = [_header(data), Spacer(1, 5 * mm)]
    story.append(
        FieldGrid(
            [
                ["Veterinario/a", data.veterinarian, "Razón social", data.billing_name],
                ["Matrícula", data.veterinarian_license, "CUIT/CUIL", data.cuit],
                [
                    "Contacto",
                    data.veterinarian_contact,
                    "Condición IVA",
                    data.tax_condition,
                ],
            ],
            (
                Column(0.16 * WIDTH, BOLD, CELL, 11.5, padding=6),
                Column(0.34 * WIDTH, REGULAR, CELL, 11.5, padding=6),
                Column(0.16 * WIDTH, BOLD, CELL, 11.5, padding=6),
                Column(0.34 * WIDTH, REGULAR, CELL, 11.5, padding=6),
            ),
            row_gap=3,
        )
    )
    story.append(Spacer(1, 3 * mm))
    if data.protocols:
        story.append(_heading("Protocolos"))
        story.append(
            Table(
                ["Protocolo", "Análisis", "Animal", "Recibido"],
                [
                    [p.code, p.analysis, p.animal or "—", p.received]
                    for p in data.protocols
                ],
                [
                    TableColumn(WIDTH * 0.18),
                    TableColumn(WIDTH * 0.22),
                    TableColumn(WIDTH * 0.42),
                    TableColumn(WIDTH * 0.18),
                ],
                _TABLE,
            )
        )
    story.append(_heading("Detalle"))
    story.append(
        Table(
            ["Código", "Descripción", "Cant.", "Precio unit.", "Desc. %", "Importe"],
            [
                [
                    line.code,
                    line.description or "—",
                    str(line.quantity),
                    format_money(line.unit_price),
                    format_decimal(line.discount_percent)
                    if line.discount_percent
                    else "—",
                    format_money(line.amount),
                ]
                for line in data.lines
            ],
            [
                TableColumn(WIDTH * 0.12),
                TableColumn(WIDTH * 0.38),
                TableColumn(WIDTH * 0.07, "right"),
                TableColumn(WIDTH * 0.16, "right"),
                TableColumn(WIDTH * 0.10, "right"),
                TableColumn(WIDTH * 0.17, "right"),
            ],
            _TABLE,
        )
    )
    story.append(Spacer(1, 4 * mm))

    totals: list[list[str]] = [["Subtotal", format_money(data.subtotal)]]
    if data.discount_total:
        totals.append(["Descuentos", format_money(-data.discount_total)])
    if data.tax_discriminated:
        totals += [
            ["Neto gravado", format_money(data.net)],
            ["IVA 21 %", format_money(data.tax_total)],
            ["Total", format_money(data.total)],
        ]
    else:
        totals += [
            ["Total (IVA incluido)", format_money(data.total)],
            ["IVA contenido (Ley 27.743)", format_money(data.tax_total)],
        ]
    if data.advance_payment:
        totals += [
            ["Pago anticipado", format_money(-data.advance_payment)],
            ["Saldo a pagar", format_money(data.balance)],
        ]
    total_row = next(i for i, row in enumerate(totals) if row[0].startswith("Total"))
    totals_table = Table(
        None,
        totals,
        [TableColumn(WIDTH * 0.30), TableColumn(WIDTH * 0.20, "right")],
        replace(_TABLE, size=9, leading=11),
        bold_rows={total_row, len(totals) - 1},
        rules=False,
        rule_above={total_row},
    )
    totals_table.hAlign = "RIGHT"
    story.append(totals_table)
    note = (
        "IVA discriminado (responsable inscripto)."
        if data.tax_discriminated
        else "Precios con IVA incluido."
    )
    story.append(
        TextBlock(
            paragraph_lines(
                note, font=REGULAR, size=8, leading=10, width=WIDTH, color=MUTED, gap=6
            )
        )
    )
    if data.notes:
        story.append(_heading("Observaciones"))
        story.append(
            TextBlock(
                paragraph_lines(
                    data.notes, font=REGULAR, size=9.5, leading=13, width=WIDTH
                )
            )
        )
    footer_left = f"{data.lab_name} · Orden {data.number}"

    def footer(canvas: Canvas, document: Any) -> None:
        if document.page == 1:
            claim_glyphs(canvas, REGULAR, BOLD)
        number = f"Página {document.page}"
        draw_runs(
            canvas,
            [
                TextRun(MARGIN_X, 10 * mm, REGULAR, 7.5, footer_left, MUTED),
                TextRun(
                    PAGE_WIDTH - MARGIN_X - text_width(number, REGULAR, 7.5),
                    10 * mm,
                    REGULAR,
                    7.5,
                    number,
                    MUTED,
                ),
            ],
        )

    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
