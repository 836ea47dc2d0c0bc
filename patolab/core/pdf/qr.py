"""Vector QR codes (ReportLab's own encoder; no raster round-trip)."""

from __future__ import annotations

from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.pdfgen.canvas import Canvas

QUIET_ZONE_MODULES = 4  # ISO/IEC 18004 quiet zone


def qr_modules(value: str, level: str = "M") -> int:
    """Number of modules per side (without quiet zone) for `value`."""
    widget = QrCodeWidget(value, barLevel=level, barBorder=0)
    widget.qr.make()
    return int(widget.qr.getModuleCount())


def qr_drawing(
    value: str, size: float, *, level: str = "M", border: int = QUIET_ZONE_MODULES
) -> Drawing:
    """A square Drawing of `size` points (quiet zone included) encoding `value`."""
    widget = QrCodeWidget(value, barLevel=level, barBorder=border)
    x0, y0, x1, y1 = widget.getBounds()
    width, height = x1 - x0, y1 - y0
    drawing = Drawing(
        size,
        size,
        transform=[
            size / width,
            0,
            0,
            size / height,
            -x0 * size / width,
            -y0 * size / height,
        ],
    )
    drawing.add(widget)
    return drawing


def draw_qr(
    canvas: Canvas,
    value: str,
    x: float,
    y: float,
    size: float,
    *,
    level: str = "M",
    border: int = QUIET_ZONE_MODULES,
) -> None:
    """Draw a QR code with its bottom-left corner (quiet zone included) at x, y."""
    from reportlab.graphics import renderPDF

    renderPDF.draw(qr_drawing(value, size, level=level, border=border), canvas, x, y)
