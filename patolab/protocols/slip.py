"""Pure renderer of the submission slip (A4, ReportLab canvas).

No queries, no writes: `render_submission_slip(SlipData) -> bytes`, deterministic
(`invariant=1`), so the same data gives the same SHA-256. The data function and
the document kind live in `documents.py` and `jobs.py`.

What the veterinarian prints and sends with the sample:
- the temporary code in large type, as a QR code and as a Code 128 barcode (a
  reception scanner of either kind types it and presses Enter; the reception
  lookup accepts it as typed);
- the protocol data the lab needs to check the parcel;
- one cut-out tag per container (or slide) with the code's QR, the code, the
  animal and "Frasco n de N", so nobody hand-writes a 19-character code on a jar.

The printed words are Spanish literals, like the report PDF: the stored file is
keyed by its data, not by the viewer's language.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from patolab.core.pdf.fonts import BOLD, REGULAR, register_fonts
from patolab.core.pdf.qr import draw_qr
from patolab.core.pdf.styles import BRAND, MUTED, format_date

# Bump when the printed layout changes: stored slips become stale.
RENDERER_VERSION = "slip-1"

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 15 * mm
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN
BIG_QR = 40 * mm
TAG_WIDTH = 60 * mm
TAG_HEIGHT = 30 * mm
TAG_COLUMNS = 3
TAG_QR = 24 * mm
TAG_PAD = 2.5 * mm
ELLIPSIS = "\u2026"


@dataclass(frozen=True)
class SlipData:
    """Everything printed on a protocol's submission slip."""

    lab_name: str
    temporary_code: str
    analysis: str  # "Histopatología" / "Citología"
    veterinarian: str
    veterinarian_license: str
    animal_name: str
    species: str
    breed: str
    sex: str
    age: str
    owner_name: str
    sampling_date: date | None
    submitted_on: date | None
    # "Material remitido" / "Técnica y sitio" and its value.
    material_label: str
    material: str
    preservation: str
    count: int
    # Singular and plural of what each tag goes on ("frasco", "frascos").
    unit: str
    units: str
    presumptive_diagnosis: str


def _fit(text: str, font: str, size: float, width: float) -> str:
    text = " ".join((text or "").split())
    if pdfmetrics.stringWidth(text, font, size) <= width:
        return text
    for end in range(len(text) - 1, 0, -1):
        candidate = text[:end].rstrip() + ELLIPSIS
        if pdfmetrics.stringWidth(candidate, font, size) <= width:
            return candidate
    return ELLIPSIS


def _field_rows(data: SlipData) -> list[tuple[str, str]]:
    animal = " · ".join(
        part for part in (data.animal_name, data.species, data.breed) if part
    )
    details = " · ".join(part for part in (data.sex, data.age) if part)
    count = f"{data.count} {data.unit if data.count == 1 else data.units}"
    vet = data.veterinarian
    if data.veterinarian_license:
        vet = f"{vet} (Mat. {data.veterinarian_license})"
    rows = [
        ("Análisis", data.analysis),
        ("Veterinario/a", vet),
        ("Animal", animal),
        ("Sexo y edad", details or "—"),
        ("Propietario/a", data.owner_name or "—"),
        ("Toma de muestra", format_date(data.sampling_date)),
        ("Enviado", format_date(data.submitted_on)),
        (data.material_label, data.material or "—"),
        ("Cantidad enviada", count),
    ]
    if data.preservation:
        rows.append(("Conservación", data.preservation))
    rows.append(("Diagnóstico presuntivo", data.presumptive_diagnosis or "—"))
    return rows


def _header(c: Canvas, data: SlipData) -> float:
    """Title, big code, QR and barcode; returns the y below them."""
    top = PAGE_HEIGHT - MARGIN
    c.setFillColor(BRAND)
    c.setFont(BOLD, 10)
    c.drawString(MARGIN, top - 10, _fit(data.lab_name, BOLD, 10, CONTENT_WIDTH))
    c.setFont(BOLD, 16)
    c.drawString(MARGIN, top - 30, "Comprobante de remisión de muestras")
    c.setFillColor(colors.black)

    qr_x = PAGE_WIDTH - MARGIN - BIG_QR
    qr_y = top - 8 - BIG_QR
    draw_qr(c, data.temporary_code, qr_x, qr_y, BIG_QR)

    text_width = qr_x - MARGIN - 6 * mm
    c.setFillColor(MUTED)
    c.setFont(REGULAR, 9)
    c.drawString(MARGIN, top - 52, "Código temporal (escríbalo o pegue una etiqueta)")
    c.setFillColor(colors.black)
    size = 24.0
    while size > 12 and pdfmetrics.stringWidth(data.temporary_code, BOLD, size) > (
        text_width
    ):
        size -= 0.5
    c.setFont(BOLD, size)
    c.drawString(MARGIN, top - 52 - size - 2, data.temporary_code)

    barcode = Code128(
        data.temporary_code, barHeight=12 * mm, barWidth=0.33 * mm, quiet=True
    )
    # Never wider than the space left of the QR.
    if barcode.width > text_width:
        barcode = Code128(
            data.temporary_code,
            barHeight=12 * mm,
            barWidth=0.33 * mm * text_width / barcode.width,
            quiet=True,
        )
    barcode_y = top - 52 - size - 8 - 12 * mm
    barcode.drawOn(c, MARGIN - barcode.lquiet, barcode_y)
    return min(qr_y, barcode_y) - 6 * mm


def _table(c: Canvas, data: SlipData, y: float) -> float:
    label_width = 42 * mm
    value_width = CONTENT_WIDTH - label_width
    c.setStrokeColor(colors.HexColor("#dde2e8"))
    for label, value in _field_rows(data):
        lines = simpleSplit(value, REGULAR, 9.5, value_width)[:3] or ["—"]
        height = 12.5 * len(lines) + 3
        c.setFillColor(MUTED)
        c.setFont(REGULAR, 8.5)
        c.drawString(MARGIN, y - 10, label)
        c.setFillColor(colors.black)
        c.setFont(REGULAR, 9.5)
        for index, line in enumerate(lines):
            c.drawString(MARGIN + label_width, y - 10 - 12.5 * index, line)
        y -= height
        c.line(MARGIN, y + 1, PAGE_WIDTH - MARGIN, y + 1)
    return y - 5 * mm


def _instructions(c: Canvas, data: SlipData, y: float) -> float:
    c.setFont(BOLD, 10)
    c.drawString(MARGIN, y, "Cómo enviar la muestra")
    text = (
        f"Recorte una etiqueta por {data.unit} y péguela en él; envíe este "
        "comprobante junto con las muestras. En la recepción del laboratorio se "
        "escanea el código y se le asigna el número definitivo del protocolo."
    )
    c.setFont(REGULAR, 9)
    lines = simpleSplit(text, REGULAR, 9, CONTENT_WIDTH)
    for index, line in enumerate(lines):
        c.drawString(MARGIN, y - 13 - 11.5 * index, line)
    return y - 13 - 11.5 * len(lines) - 4 * mm


def _tag(c: Canvas, data: SlipData, x: float, y: float, n: int) -> None:
    """One cut-out tag with its bottom-left corner at (x, y)."""
    c.saveState()
    c.setDash(3, 2)
    c.setStrokeColor(MUTED)
    c.rect(x, y, TAG_WIDTH, TAG_HEIGHT)
    c.restoreState()
    qr_y = y + (TAG_HEIGHT - TAG_QR) / 2
    draw_qr(c, data.temporary_code, x + 1 * mm, qr_y, TAG_QR)
    text_x = x + 1 * mm + TAG_QR + 0.5 * mm
    width = x + TAG_WIDTH - TAG_PAD - text_x
    top = y + TAG_HEIGHT - TAG_PAD
    size = 7.5
    while size > 5 and pdfmetrics.stringWidth(data.temporary_code, BOLD, size) > width:
        size -= 0.25
    c.setFillColor(colors.black)
    c.setFont(BOLD, size)
    c.drawString(text_x, top - size, data.temporary_code)
    c.setFont(BOLD, 8)
    c.drawString(text_x, top - size - 11, _fit(data.animal_name, BOLD, 8, width))
    c.setFont(REGULAR, 7)
    c.drawString(text_x, top - size - 20, _fit(data.species, REGULAR, 7, width))
    c.drawString(
        text_x,
        top - size - 29,
        _fit(f"{data.unit.capitalize()} {n} de {data.count}", REGULAR, 7, width),
    )
    c.drawString(
        text_x,
        top - size - 38,
        _fit(f"Toma: {format_date(data.sampling_date)}", REGULAR, 7, width),
    )


def _tags(c: Canvas, data: SlipData, y: float) -> None:
    gap = (CONTENT_WIDTH - TAG_COLUMNS * TAG_WIDTH) / (TAG_COLUMNS - 1)
    c.setFont(BOLD, 10)
    c.drawString(MARGIN, y, f"Etiquetas para recortar ({data.count})")
    y -= 4 * mm
    for index in range(data.count):
        column = index % TAG_COLUMNS
        if column == 0:
            if y - TAG_HEIGHT < MARGIN:
                c.showPage()
                y = PAGE_HEIGHT - MARGIN
            y -= TAG_HEIGHT
        _tag(c, data, MARGIN + column * (TAG_WIDTH + gap), y, index + 1)
        if column == TAG_COLUMNS - 1:
            y -= 3 * mm


def render_submission_slip(data: SlipData) -> bytes:
    """The slip as PDF bytes (page 1: code, data, first tags; more pages when
    the tags do not fit)."""
    register_fonts()
    buffer = io.BytesIO()
    c = Canvas(buffer, pagesize=A4, invariant=1, pageCompression=1)
    c.setTitle(f"Comprobante {data.temporary_code}")
    c.setAuthor(data.lab_name)
    y = _header(c, data)
    y = _table(c, data, y)
    y = _instructions(c, data, y)
    _tags(c, data, y)
    c.showPage()
    c.save()
    return buffer.getvalue()
