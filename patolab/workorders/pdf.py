"""Pure work-order PDF renderer: `render_work_order(data) -> bytes`.

No queries, no writes: `documents.workorder_document()` loads the data. Output
is deterministic (ReportLab `invariant=1`, fixed metadata), so the same data
always gives the same bytes and the same SHA-256.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from decimal import Decimal

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from patolab.core.pdf.fonts import BOLD, REGULAR, register_fonts
from patolab.core.pdf.styles import (
    BRAND,
    MUTED,
    escape,
    format_decimal,
    format_money,
    paragraph_styles,
)

# Part of the fingerprint: bump it when the layout changes so cached PDFs are
# regenerated with the new look.
RENDERER_VERSION = "workorder-pdf/2"


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


def _table_style(extra: list[tuple] | None = None) -> TableStyle:
    return TableStyle(
        [
            ("FONTNAME", (0, 0), (-1, -1), REGULAR),
            ("FONTSIZE", (0, 0), (-1, -1), 8.5),
            ("FONTNAME", (0, 0), (-1, 0), BOLD),
            ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
            ("BACKGROUND", (0, 0), (-1, 0), BRAND),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.HexColor("#d5dbe1")),
            ("TOPPADDING", (0, 0), (-1, -1), 3),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            *(extra or []),
        ]
    )


def render_work_order(data: WorkOrderDocument) -> bytes:
    """A4 work order: lab header, number, status, veterinarian and billing data,
    protocols, priced lines, IVA per condition, advance payment and totals."""
    register_fonts()
    styles = paragraph_styles()
    base, small = styles["base"], styles["small"]
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=f"Orden de trabajo {data.number}",
        author=data.lab_name,
        subject="Orden de trabajo",
        creator="Patolab",
        invariant=1,
    )
    width = doc.width
    story: list = []

    header = Table(
        [
            [
                Paragraph(escape(data.lab_name), styles["title"]),
                Paragraph(
                    f"<b>ORDEN DE TRABAJO</b><br/>N.º {escape(data.number)}<br/>"
                    f"Fecha: {escape(data.date)}<br/>Estado: {escape(data.status)}",
                    styles["right"],
                ),
            ]
        ],
        colWidths=[width * 0.6, width * 0.4],
    )
    header.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, 0), 1, BRAND),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
            ]
        )
    )
    story += [header, Spacer(1, 5 * mm)]

    cell_style = ParagraphStyle("cell", parent=base, fontSize=8.5, leading=10.5)

    def cell(text: str, limit: int) -> str | Paragraph:
        # Plain strings are several times cheaper to lay out than Paragraphs;
        # only text that may need wrapping pays for a Paragraph.
        text = text or "—"
        if len(text) <= limit and "\n" not in text:
            return text
        return Paragraph(escape(text), cell_style)

    parties = Table(
        [
            [
                "Veterinario/a",
                cell(data.veterinarian, 34),
                "Razón social",
                cell(data.billing_name, 34),
            ],
            [
                "Matrícula",
                cell(data.veterinarian_license, 34),
                "CUIT/CUIL",
                cell(data.cuit, 34),
            ],
            [
                "Contacto",
                cell(data.veterinarian_contact, 34),
                "Condición IVA",
                cell(data.tax_condition, 34),
            ],
        ],
        colWidths=[width * 0.16, width * 0.34, width * 0.16, width * 0.34],
    )
    parties.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("FONTNAME", (0, 0), (-1, -1), REGULAR),
                ("FONTSIZE", (0, 0), (-1, -1), 8.5),
                ("FONTNAME", (0, 0), (0, -1), BOLD),
                ("FONTNAME", (2, 0), (2, -1), BOLD),
            ]
        )
    )
    story += [parties, Spacer(1, 3 * mm)]

    if data.protocols:
        story.append(Paragraph("Protocolos", styles["h2"]))
        rows = [["Protocolo", "Análisis", "Animal", "Recibido"]]
        rows += [
            [p.code, p.analysis, cell(p.animal, 48), p.received] for p in data.protocols
        ]
        table = Table(
            rows,
            colWidths=[width * 0.18, width * 0.22, width * 0.42, width * 0.18],
            repeatRows=1,
        )
        table.setStyle(_table_style())
        story.append(table)

    story.append(Paragraph("Detalle", styles["h2"]))
    rows = [["Código", "Descripción", "Cant.", "Precio unit.", "Desc. %", "Importe"]]
    for line in data.lines:
        rows.append(
            [
                line.code,
                cell(line.description, 44),
                str(line.quantity),
                format_money(line.unit_price),
                format_decimal(line.discount_percent) if line.discount_percent else "—",
                format_money(line.amount),
            ]
        )
    table = Table(
        rows,
        colWidths=[
            width * 0.12,
            width * 0.38,
            width * 0.07,
            width * 0.16,
            width * 0.10,
            width * 0.17,
        ],
        repeatRows=1,
    )
    table.setStyle(_table_style([("ALIGN", (2, 0), (-1, -1), "RIGHT")]))
    story.append(table)
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
    totals_table = Table(totals, colWidths=[width * 0.30, width * 0.20], hAlign="RIGHT")
    totals_table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), REGULAR),
                ("FONTSIZE", (0, 0), (-1, -1), 9),
                ("ALIGN", (1, 0), (1, -1), "RIGHT"),
                ("FONTNAME", (0, total_row), (-1, total_row), BOLD),
                ("LINEABOVE", (0, total_row), (-1, total_row), 0.75, BRAND),
                ("FONTNAME", (0, -1), (-1, -1), BOLD),
            ]
        )
    )
    story.append(totals_table)
    note = (
        "IVA discriminado (responsable inscripto)."
        if data.tax_discriminated
        else "Precios con IVA incluido."
    )
    story += [Spacer(1, 2 * mm), Paragraph(note, small)]
    if data.notes:
        story += [
            Paragraph("Observaciones", styles["h2"]),
            Paragraph(escape(data.notes), base),
        ]

    def footer(canvas, document) -> None:  # type: ignore[no-untyped-def]
        canvas.saveState()
        canvas.setFont(REGULAR, 7.5)
        canvas.setFillColor(MUTED)
        canvas.drawString(
            doc.leftMargin, 10 * mm, f"{data.lab_name} · Orden {data.number}"
        )
        canvas.drawRightString(
            A4[0] - doc.rightMargin, 10 * mm, f"Página {document.page}"
        )
        canvas.restoreState()

    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
