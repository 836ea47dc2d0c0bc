"""Pure renderer for 39 x 20 mm thermal labels (ReportLab canvas).

No queries, no writes: callers pass `LabelData` and get PDF bytes. Output is
deterministic (`invariant=1`), so the same data always gives the same SHA-256.

Layout (one page per container): a text column on the left, at least 2 mm from
the label's edges (protocol number, largest and never truncated; the animal's
name on one line, or on two when it needs them, shortened with an ellipsis only
after that; species; "Rec." and the reception date; container "n/N") and a
vector QR on the right that encodes the protocol's absolute URL. The QR keeps its 4-module quiet zone and its module size
is snapped to whole printer dots of a 203 dpi thermal head when that still gives
>= 0.4 mm, so every module prints as the same number of dots.

All text is in the bold face: thin strokes of a regular face at 6-7 pt print
faintly on a 203 dpi thermal head, and one embedded font instead of two halves
the per-document cost (~1 ms and ~32 KB each).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from patolab.core.pdf.fonts import BOLD, claim_glyphs, register_fonts
from patolab.core.pdf.formatted import format_once
from patolab.core.pdf.qr import QUIET_ZONE_MODULES, draw_qr_path, qr_modules
from patolab.core.pdf.text import TextRun, break_lines, draw_runs, text_width

# Bump when the printed layout changes: it is part of every label fingerprint,
# so stored labels become stale and are regenerated.
RENDERER_VERSION = "labels-4"

LABEL_WIDTH = 39 * mm
LABEL_HEIGHT = 20 * mm
PRINTER_DPI = 203
DOT = 72 / PRINTER_DPI  # one printer dot, in points
MIN_MODULE = 0.4 * mm
# Blank band kept around the QR (outside its own quiet zone) against label
# registration drift on the printer.
QR_OUTER_MARGIN = 0.5 * mm
TEXT_MARGIN = 2 * mm  # from every edge of the label
GAP = 0.6 * mm  # between the text column and the QR's quiet zone

NUMBER_MAX_SIZE = 11.0
NAME_SIZE = 7.0
CAP_HEIGHT = 0.73  # of the bold face, in em
NUMBER_MIN_SIZE = 4.0
ELLIPSIS = "\u2026"


@dataclass(frozen=True)
class LabelData:
    """Everything printed on the labels of one protocol."""

    protocol_number: str
    animal_name: str
    species: str
    received_on: date
    containers: int
    url: str


@dataclass(frozen=True)
class QrLayout:
    level: str
    modules: int  # per side, without quiet zone
    module: float  # points
    side: float  # points, quiet zone included

    @property
    def module_mm(self) -> float:
        return float(self.module / mm)

    @property
    def module_dots(self) -> float:
        return self.module / DOT


@lru_cache(maxsize=4096)
def qr_layout(url: str) -> QrLayout:
    """The biggest QR that fits the label height, preferring ECC level M.

    The module is snapped down to whole 203 dpi dots when that still gives
    >= 0.4 mm; otherwise it keeps the largest size that fits. Level L is used
    only when it is what brings the module up to 0.4 mm.
    """
    available = LABEL_HEIGHT - 2 * QR_OUTER_MARGIN
    best: QrLayout | None = None
    for level in ("M", "L"):
        modules = qr_modules(url, level)
        total = modules + 2 * QUIET_ZONE_MODULES
        module = available / total
        snapped = int(module / DOT) * DOT
        if snapped >= MIN_MODULE:
            module = snapped
        layout = QrLayout(level, modules, module, module * total)
        if module >= MIN_MODULE:
            return layout
        if best is None or layout.module > best.module:
            best = layout
    assert best is not None
    return best


def ellipsize(text: str, font: str, size: float, width: float) -> str:
    """`text`, cut and ended with an ellipsis so it fits `width` points."""
    text = " ".join(text.split())
    if text_width(text, font, size) <= width:
        return text
    for end in range(len(text) - 1, 0, -1):
        candidate = text[:end].rstrip() + ELLIPSIS
        if text_width(candidate, font, size) <= width:
            return candidate
    return ELLIPSIS


def name_lines(text: str, font: str, size: float, width: float) -> list[str]:
    """The animal's name on one line, or on two (the second ellipsized only
    when even two lines are not enough)."""
    text = " ".join(text.split())
    if text_width(text, font, size) <= width:
        return [text]
    first = break_lines(text, font, size, width)[0][0]
    rest = text[len(first) :].strip()
    return [first, ellipsize(rest, font, size, width)] if rest else [first]


def fit_size(text: str, font: str, width: float, max_size: float) -> float:
    """The largest font size <= max_size at which `text` fits `width` (never cut)."""
    natural = text_width(text, font, max_size)
    if natural <= width:
        return max_size
    # Round down to a tenth of a point so the result really fits.
    return max(NUMBER_MIN_SIZE, int(10 * max_size * width / natural) / 10)


def qr_origin(layout: QrLayout) -> tuple[float, float]:
    """Bottom-left corner (quiet zone included) of the QR, in points.

    On the right, vertically centred, aligned to the dot grid counted from the
    top-left corner (where rasterizers and print heads start), so snapped
    modules land on whole dots.
    """
    x = int((LABEL_WIDTH - QR_OUTER_MARGIN - layout.side) / DOT) * DOT
    top_gap = (LABEL_HEIGHT - layout.side) / 2
    top = LABEL_HEIGHT - round(top_gap / DOT) * DOT
    return x, top - layout.side


def _draw_label(canvas: Canvas, item: LabelData, n: int, layout: QrLayout) -> None:
    qr_x, qr_y = qr_origin(layout)
    draw_qr_path(canvas, item.url, qr_x, qr_y, layout.module, level=layout.level)

    x = TEXT_MARGIN
    width = qr_x - GAP - x
    runs = []
    number_size = fit_size(item.protocol_number, BOLD, width, NUMBER_MAX_SIZE)
    y = LABEL_HEIGHT - TEXT_MARGIN - number_size * CAP_HEIGHT
    runs.append(TextRun(x, y, BOLD, number_size, item.protocol_number))
    for line in name_lines(item.animal_name, BOLD, NAME_SIZE, width):
        y -= 7.4
        runs.append(TextRun(x, y, BOLD, NAME_SIZE, line))
    y -= 7.0
    runs.append(TextRun(x, y, BOLD, 6.5, ellipsize(item.species, BOLD, 6.5, width)))
    received = "Rec. " + item.received_on.strftime("%d/%m/%Y")
    y -= 6.9
    runs.append(TextRun(x, y, BOLD, fit_size(received, BOLD, width, 6.5), received))
    count = f"{n}/{item.containers}"
    count_size = fit_size(count, BOLD, width, 8)
    # Raised by the slash's descent (0.09 em) so nothing prints below 2 mm.
    runs.append(TextRun(x, TEXT_MARGIN + 0.1 * count_size, BOLD, count_size, count))
    draw_runs(canvas, runs)


def render_labels(items: list[LabelData]) -> bytes:
    """One 39 x 20 mm page per container of each item, in order."""
    register_fonts()
    buffer = io.BytesIO()
    canvas = Canvas(
        buffer,
        pagesize=(LABEL_WIDTH, LABEL_HEIGHT),
        invariant=1,
        pageCompression=1,
        initialFontName=BOLD,
    )
    canvas.setTitle("Etiquetas")
    canvas.setAuthor("Patolab")
    canvas.setCreator("Patolab")
    claim_glyphs(canvas, BOLD)
    for item in items:
        layout = qr_layout(item.url)
        for n in range(1, max(1, item.containers) + 1):
            _draw_label(canvas, item, n, layout)
            canvas.showPage()
    format_once(canvas)
    canvas.save()
    return buffer.getvalue()
