"""The report PDF: a pure renderer (STYLE rule 14).

`render_report(data)` takes an already-loaded `ReportPdfData` and returns bytes.
No queries, no writes, no clock: the same data always gives the same bytes
(ReportLab's `invariant=1` fixes the creation date and the document /ID), so
"same content -> same SHA-256" holds and the finalize job can use it for
idempotency.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Frame,
    KeepTogether,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from patolab.core.pdf.fonts import BOLD, REGULAR, register_fonts
from patolab.core.pdf.qr import draw_qr
from patolab.core.pdf.styles import BRAND, MUTED, escape, format_date, paragraph_styles

# Non-ASCII characters a Spanish report uses, claimed in this order at the start
# of every document so that the embedded font subsets are the same from one
# report to the next (ReportLab numbers glyphs in order of first use). With
# identical subsets, the subset font files can be built once per process.
PRELOAD_GLYPHS = "áéíóúÁÉÍÓÚñÑüÜ°·—–«»¿¡ºª×"
_SUBSET_CACHE_MAX = 64

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 18 * mm
HEADER_HEIGHT = 30 * mm
FOOTER_HEIGHT = 14 * mm
QR_SIZE = 24 * mm


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
            self._draw_page_number(number, total)
            super().showPage()
        super().save()

    def _draw_page_number(self, number: int, total: int) -> None:
        self.saveState()
        self.setFont(REGULAR, 8)
        self.setFillColor(MUTED)
        self.drawRightString(PAGE_WIDTH - MARGIN, 9 * mm, f"Página {number} de {total}")
        self.restoreState()


@cache
def _cache_font_subsets() -> None:
    """Memoize TrueType subset building (a pure function of the glyph list) for
    the two fonts reports use: it was a third of a short report's render time.
    Output bytes are unchanged."""
    for name in (REGULAR, BOLD):
        face = pdfmetrics.getFont(name).face
        build = face.makeSubset
        built: dict[tuple[int, ...], bytes] = {}

        def make_subset(
            subset: list[int],
            _build: Any = build,
            _built: dict[tuple[int, ...], bytes] = built,
        ) -> bytes:
            key = tuple(subset)
            data = _built.get(key)
            if data is None:
                data = _build(subset)
                if len(_built) < _SUBSET_CACHE_MAX:
                    _built[key] = data
            return data

        face.makeSubset = make_subset


def _page_decorations(data: ReportPdfData) -> tuple[Any, Any]:
    def header_footer(canvas: Canvas, doc: BaseDocTemplate, first: bool) -> None:
        if first:
            for name in (REGULAR, BOLD):
                pdfmetrics.getFont(name).splitString(PRELOAD_GLYPHS, canvas._doc)
        canvas.saveState()
        top = PAGE_HEIGHT - MARGIN
        canvas.setFillColor(BRAND)
        canvas.setFont(BOLD, 13)
        canvas.drawString(MARGIN, top - 5 * mm, data.lab_name)
        canvas.setFont(REGULAR, 9)
        canvas.setFillColor(MUTED)
        canvas.drawString(
            MARGIN,
            top - 10.5 * mm,
            f"Informe de {data.analysis_type.lower()} · Protocolo {data.protocol_number}"
            f" · Versión {data.version}",
        )
        canvas.setStrokeColor(BRAND)
        canvas.setLineWidth(0.8)
        line_y = PAGE_HEIGHT - MARGIN - HEADER_HEIGHT + 3 * mm
        canvas.line(MARGIN, line_y, PAGE_WIDTH - MARGIN, line_y)
        if first:
            qr_x = PAGE_WIDTH - MARGIN - QR_SIZE
            draw_qr(canvas, data.verification_url, qr_x, line_y + 1 * mm, QR_SIZE)
            canvas.setFont(REGULAR, 6.5)
            canvas.drawRightString(qr_x - 1 * mm, line_y + 4 * mm, "Verificar informe")
        # Footer (the page number is drawn by _NumberedCanvas at save time).
        canvas.setFont(REGULAR, 7.5)
        canvas.setFillColor(MUTED)
        canvas.drawString(
            MARGIN,
            9 * mm,
            f"Verificación: {data.verification_url}",
        )
        canvas.restoreState()

    return (
        lambda c, d: header_footer(c, d, True),
        lambda c, d: header_footer(c, d, False),
    )


def _section(
    title: str, text: str, styles: dict[str, Any], body: str = "body"
) -> list[Any]:
    heading = Paragraph(escape(title), styles["h2"])
    paragraphs = [
        Paragraph(escape(chunk), styles[body]) for chunk in (text or "—").split("\n\n")
    ]
    # Keep the heading with at least its first paragraph.
    return [KeepTogether([heading, paragraphs[0]]), *paragraphs[1:]]


def _data_table(rows: list[tuple[str, str]], styles: dict[str, Any]) -> Table:
    cells = []
    for i in range(0, len(rows), 2):
        pair = rows[i : i + 2]
        line: list[Any] = []
        for label, value in pair:
            line += [
                Paragraph(escape(label), styles["label"]),
                Paragraph(escape(value or "—"), styles["base"]),
            ]
        if len(pair) == 1:
            line += ["", ""]
        cells.append(line)
    width = PAGE_WIDTH - 2 * MARGIN
    table = Table(
        cells,
        colWidths=[0.2 * width, 0.3 * width, 0.2 * width, 0.3 * width],
    )
    table.setStyle(
        TableStyle(
            [
                # Plain-string cells would otherwise fall back to Helvetica.
                ("FONT", (0, 0), (-1, -1), REGULAR, 9.5),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 2),
                ("RIGHTPADDING", (0, 0), (-1, -1), 4),
                ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
                ("LINEBELOW", (0, -1), (-1, -1), 0.4, MUTED),
            ]
        )
    )
    return table


def _story(data: ReportPdfData, styles: dict[str, Any]) -> list[Any]:
    story: list[Any] = [
        Paragraph(escape(f"Informe de {data.analysis_type.lower()}"), styles["title"]),
        Paragraph(
            escape(
                f"Protocolo {data.protocol_number} · Fecha del informe: "
                f"{format_date(data.report_date)} · Versión {data.version}"
            ),
            styles["small"],
        ),
        Spacer(1, 4 * mm),
    ]
    if data.supersedes_version:
        story.append(
            Paragraph(
                escape(
                    f"Enmienda: esta versión reemplaza a la versión "
                    f"{data.supersedes_version}. Motivo: {data.amendment_reason or '—'}"
                ),
                styles["notice"],
            )
        )
        story.append(Spacer(1, 2 * mm))
    story.append(Paragraph("Paciente y muestra", styles["h2"]))
    story.append(
        _data_table(
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
            ],
            styles,
        )
    )
    story.append(Paragraph("Veterinario/a remitente", styles["h2"]))
    story.append(
        _data_table(
            [
                ("Nombre", data.veterinarian_name),
                ("Matrícula", data.veterinarian_license),
                ("Localidad", data.veterinarian_locality),
            ],
            styles,
        )
    )
    if data.clinical_history:
        story += _section("Historia clínica", data.clinical_history, styles)
    # Cytology usually has no macroscopic description: skip the empty section.
    if data.macroscopic or data.analysis_type.lower() != "citología":
        story += _section("Descripción macroscópica", data.macroscopic, styles)
    story += _section("Descripción microscópica", data.microscopic, styles)
    story += _section("Diagnóstico", data.diagnosis, styles, body="diagnosis")
    if data.comments:
        story += _section("Comentarios", data.comments, styles)
    story.append(CondPageBreak(35 * mm))
    story.append(
        KeepTogether(
            [
                Spacer(1, 12 * mm),
                Paragraph("_" * 34, styles["signature"]),
                Paragraph(escape(data.histopathologist_name), styles["signature_name"]),
                Paragraph("Histopatólogo/a", styles["signature"]),
                Spacer(1, 5 * mm),
                Paragraph(
                    escape(
                        "Este informe se puede verificar escaneando el código QR de la "
                        f"primera página o en {data.verification_url}"
                    ),
                    styles["small"],
                ),
            ]
        )
    )
    return story


def _styles() -> dict[str, Any]:
    from reportlab.lib.styles import ParagraphStyle

    styles: dict[str, Any] = dict(paragraph_styles())
    base = styles["base"]
    styles["body"] = ParagraphStyle(
        "body", parent=base, fontSize=10, leading=14, spaceAfter=4, alignment=4
    )
    styles["diagnosis"] = ParagraphStyle(
        "diagnosis", parent=styles["body"], fontName=BOLD, alignment=0
    )
    styles["notice"] = ParagraphStyle(
        "notice", parent=base, fontName=BOLD, textColor=BRAND
    )
    styles["signature"] = ParagraphStyle("signature", parent=base, alignment=2)
    styles["signature_name"] = ParagraphStyle(
        "signature_name", parent=base, fontName=BOLD, alignment=2
    )
    return styles


def render_report(data: ReportPdfData) -> bytes:
    """Render the report PDF (A4, embedded TTF, vector QR). Deterministic."""
    register_fonts()
    _cache_font_subsets()
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
    doc.build(_story(data, _styles()), canvasmaker=_NumberedCanvas)
    return buffer.getvalue()
