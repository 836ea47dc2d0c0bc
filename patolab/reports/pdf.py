"""The report PDF: a pure renderer (STYLE rule 14).

`render_report(data)` takes an already-loaded `ReportPdfData` and returns bytes.
No queries, no writes, no clock: the same data always gives the same bytes
(ReportLab's `invariant=1` fixes the creation date and the document /ID), so
"same content -> same SHA-256" holds and the finalize job can use it for
idempotency. (Reading the logo file is the only I/O, cached per process.)

Layout: the header (logo, lab name, address and phone, report line, a rule;
the verification QR on page 1) and the footer are drawn on the canvas of every
page; the body flows through one platypus frame as pre-broken plain-text
blocks (`core.pdf.text`), so long paragraphs split across pages and no part of
page 1 is left empty before a long section.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate

from patolab.core.pdf.fonts import BOLD, REGULAR, claim_glyphs, register_fonts
from patolab.core.pdf.images import draw_image
from patolab.core.pdf.qr import draw_qr
from patolab.core.pdf.styles import BRAND, MUTED, format_date
from patolab.core.pdf.text import (
    Column,
    FieldGrid,
    TextBlock,
    TextLine,
    paragraph_lines,
)

# Bump when the printed layout changes: it is part of every report PDF's
# fingerprint, so stored PDFs become stale and are re-rendered when asked for.
RENDERER_VERSION = "report-1"

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 18 * mm
HEADER_HEIGHT = 30 * mm
FOOTER_HEIGHT = 14 * mm
QR_SIZE = 24 * mm
LOGO_HEIGHT = 15 * mm
BODY_WIDTH = PAGE_WIDTH - 2 * MARGIN

# Body type: 10/14 justified text, bold headings in the brand colour.
TEXT_SIZE, TEXT_LEADING, PARAGRAPH_GAP = 10.0, 14.0, 4.0
H2_SIZE, H2_LEADING, H2_GAP = 11.0, 15.0, 9.0
SMALL_SIZE, SMALL_LEADING = 8.0, 10.0


@dataclass(frozen=True)
class ReportPdfData:
    """Everything printed on a report, already loaded (no model instances)."""

    lab_name: str
    protocol_number: str
    analysis_type: str
    version: int
    report_date: date | None
    verification_url: str
    verification_id: str
    # Animal and sample
    species: str
    breed: str
    sex: str
    age: str
    animal_name: str
    owner_name: str
    sampling_date: date | None
    received_date: date | None
    material: str
    clinical_history: str
    presumptive_diagnosis: str
    # Veterinarian
    veterinarian_name: str
    veterinarian_license: str
    veterinarian_locality: str
    # Report body
    macroscopic: str
    microscopic: str
    diagnosis: str
    comments: str
    histopathologist_name: str
    amendment_reason: str = ""
    supersedes_version: int | None = None
    # Lab letterhead and the signer's registration (settings / user profile)
    lab_address: str = ""
    lab_phone: str = ""
    lab_logo_path: str = ""
    histopathologist_license: str = ""
    is_cytology: bool = False


def report_title(data: ReportPdfData) -> str:
    return "Informe citológico" if data.is_cytology else "Informe histopatológico"


class _NumberedCanvas(Canvas):  # type: ignore[misc]  # untyped library class
    """Defers page output until the end so the footer can say "Página N de M"."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._saved_pages: list[dict[str, Any]] = []

    def showPage(self) -> None:
        self._saved_pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._saved_pages)
        for number, state in enumerate(self._saved_pages, start=1):
            self.__dict__.update(state)
            self.setFont(REGULAR, 8)
            self.setFillColor(MUTED)
            self.drawRightString(
                PAGE_WIDTH - MARGIN, 9 * mm, f"Página {number} de {total}"
            )
            super().showPage()
        super().save()


def _page_decorations(data: ReportPdfData) -> tuple[Any, Any]:
    subtitle = (
        f"{report_title(data)} · Protocolo {data.protocol_number}"
        f" · Versión {data.version}"
    )
    contact = " · ".join(part for part in (data.lab_address, data.lab_phone) if part)

    def header_footer(canvas: Canvas, doc: BaseDocTemplate, first: bool) -> None:
        if first:
            claim_glyphs(canvas, REGULAR, BOLD)
        top = PAGE_HEIGHT - MARGIN
        line_y = top - HEADER_HEIGHT + 3 * mm
        logo_width = draw_image(
            canvas,
            data.lab_logo_path,
            MARGIN,
            top - LOGO_HEIGHT + 1 * mm,
            height=LOGO_HEIGHT,
        )
        x = MARGIN + (logo_width + 3 * mm if logo_width else 0)
        canvas.setFillColor(BRAND)
        canvas.setFont(BOLD, 13)
        canvas.drawString(x, top - 4 * mm, data.lab_name)
        canvas.setFillColor(MUTED)
        if contact:
            canvas.setFont(REGULAR, 8.5)
            canvas.drawString(x, top - 8.5 * mm, contact)
        canvas.setFont(REGULAR, 9)
        canvas.drawString(x, top - 13 * mm, subtitle)
        canvas.setStrokeColor(BRAND)
        canvas.setLineWidth(0.8)
        canvas.line(MARGIN, line_y, PAGE_WIDTH - MARGIN, line_y)
        if first:
            qr_x = PAGE_WIDTH - MARGIN - QR_SIZE
            draw_qr(canvas, data.verification_url, qr_x, line_y + 1 * mm, QR_SIZE)
            canvas.setFont(REGULAR, 6.5)
            canvas.drawRightString(qr_x - 1 * mm, line_y + 4 * mm, "Verificar informe")
        # Footer (the page number is drawn by _NumberedCanvas at save time).
        canvas.setFont(REGULAR, 7.5)
        canvas.drawString(MARGIN, 9 * mm, f"Verificación: {data.verification_url}")

    return (
        lambda c, d: header_footer(c, d, True),
        lambda c, d: header_footer(c, d, False),
    )


def _heading(title: str) -> list[TextLine]:
    # keep=2: a heading never ends a page without two lines of its text.
    return paragraph_lines(
        title,
        font=BOLD,
        size=H2_SIZE,
        leading=H2_LEADING,
        width=BODY_WIDTH,
        color=BRAND,
        gap=H2_GAP,
        keep=2,
    )


def _text(text: str, *, font: str = REGULAR, align: str = "justify") -> list[TextLine]:
    lines: list[TextLine] = []
    for chunk in (text or "—").split("\n\n"):
        lines += paragraph_lines(
            chunk.strip("\n"),
            font=font,
            size=TEXT_SIZE,
            leading=TEXT_LEADING,
            width=BODY_WIDTH,
            align=align,
            gap=PARAGRAPH_GAP if lines else 1.0,
        )
    return lines


_FIELD_COLUMNS = (
    Column(0.2 * BODY_WIDTH, BOLD, 8.5, 11.5),
    Column(0.3 * BODY_WIDTH, REGULAR, 9.5, 12.0),
    Column(0.2 * BODY_WIDTH, BOLD, 8.5, 11.5),
    Column(0.3 * BODY_WIDTH, REGULAR, 9.5, 12.0),
)


def _fields(pairs: list[tuple[str, str]]) -> FieldGrid:
    rows = []
    for i in range(0, len(pairs), 2):
        row: list[str] = []
        for label, value in pairs[i : i + 2]:
            row += [label, value or "—"]
        rows.append(row)
    return FieldGrid(rows, _FIELD_COLUMNS, rule=(0.4, MUTED))


def _signature(data: ReportPdfData) -> TextBlock:
    right = {"width": BODY_WIDTH, "align": "right"}
    lines = paragraph_lines("_" * 34, font=REGULAR, size=9.5, leading=13, **right)
    lines[0] = replace(lines[0], gap=12 * mm)
    lines += paragraph_lines(
        data.histopathologist_name, font=BOLD, size=9.5, leading=13, **right
    )
    if data.histopathologist_license:
        lines += paragraph_lines(
            f"Matrícula {data.histopathologist_license}",
            font=REGULAR,
            size=9.5,
            leading=13,
            **right,
        )
    lines += paragraph_lines(
        "Histopatólogo/a", font=REGULAR, size=9.5, leading=13, **right
    )
    lines += paragraph_lines(
        "Este informe se puede verificar escaneando el código QR de la primera "
        f"página o en {data.verification_url}",
        font=REGULAR,
        size=SMALL_SIZE,
        leading=SMALL_LEADING,
        width=BODY_WIDTH,
        color=MUTED,
        gap=5 * mm,
    )
    # The whole block moves to the next page rather than split.
    lines[0] = replace(lines[0], keep=len(lines) - 1)
    return TextBlock(lines)


def _story(data: ReportPdfData) -> list[Any]:
    intro = paragraph_lines(
        report_title(data),
        font=BOLD,
        size=15,
        leading=19,
        width=BODY_WIDTH,
        color=BRAND,
    )
    intro += paragraph_lines(
        f"Protocolo {data.protocol_number} · Fecha del informe: "
        f"{format_date(data.report_date)} · Versión {data.version}",
        font=REGULAR,
        size=SMALL_SIZE,
        leading=SMALL_LEADING,
        width=BODY_WIDTH,
        color=MUTED,
    )
    if data.supersedes_version:
        intro += paragraph_lines(
            f"Enmienda: esta versión reemplaza a la versión "
            f"{data.supersedes_version}. Motivo: {data.amendment_reason or '—'}",
            font=BOLD,
            size=9.5,
            leading=13,
            width=BODY_WIDTH,
            color=BRAND,
            gap=3 * mm,
        )
    story: list[Any] = [
        TextBlock(intro + _heading("Paciente y muestra")),
        _fields(
            [
                ("Animal", data.animal_name),
                ("Propietario/a", data.owner_name),
                ("Especie", data.species),
                ("Raza", data.breed),
                ("Sexo", data.sex),
                ("Edad", data.age),
                ("Toma de muestra", format_date(data.sampling_date)),
                ("Recepción", format_date(data.received_date)),
                ("Material", data.material),
                ("Diagnóstico presuntivo", data.presumptive_diagnosis),
            ]
        ),
        TextBlock(_heading("Veterinario/a remitente")),
        _fields(
            [
                ("Nombre", data.veterinarian_name),
                ("Matrícula", data.veterinarian_license),
                ("Localidad", data.veterinarian_locality),
            ]
        ),
    ]
    body: list[TextLine] = []
    if data.clinical_history:
        body += _heading("Historia clínica") + _text(data.clinical_history)
    # A smear has no macroscopic description: skip it unless one was written.
    if data.macroscopic or not data.is_cytology:
        body += _heading("Descripción macroscópica") + _text(data.macroscopic)
    body += _heading(
        "Descripción citológica" if data.is_cytology else "Descripción microscópica"
    ) + _text(data.microscopic)
    body += _heading("Diagnóstico") + _text(data.diagnosis, font=BOLD, align="left")
    if data.comments:
        body += _heading("Comentarios") + _text(data.comments)
    story += [TextBlock(body), _signature(data)]
    return story


def render_report(data: ReportPdfData) -> bytes:
    """Render the report PDF (A4, embedded TTF, vector QR). Deterministic."""
    register_fonts()
    buffer = io.BytesIO()
    doc = BaseDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN + HEADER_HEIGHT,
        bottomMargin=MARGIN + FOOTER_HEIGHT - 6 * mm,
        title=f"Informe {data.protocol_number} v{data.version}",
        author=data.lab_name,
        subject=f"Informe {data.protocol_number}",
        creator="Patolab",
        producer="Patolab",
        invariant=1,
        initialFontName=REGULAR,
        lang="es-AR",
    )
    frame = Frame(
        doc.leftMargin,
        doc.bottomMargin,
        doc.width,
        doc.height,
        id="body",
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
    )
    first, later = _page_decorations(data)
    doc.addPageTemplates(
        [
            PageTemplate(
                id="first", frames=[frame], onPage=first, autoNextPageTemplate="later"
            ),
            PageTemplate(id="later", frames=[frame], onPage=later),
        ]
    )
    doc.build(_story(data), canvasmaker=_NumberedCanvas)
    return buffer.getvalue()
