"""Read label PDFs back: page sizes, text, and QR codes decoded from a 203 dpi
rendering (pypdfium2 -> PIL -> zxing-cpp), like a thermal printer would print."""

from __future__ import annotations

import io

import pypdfium2 as pdfium
import zxingcpp
from PIL import Image
from pypdf import PdfReader

PRINTER_SCALE = 203 / 72


def pdf_pages(pdf: bytes) -> list[tuple[float, float, str]]:
    reader = PdfReader(io.BytesIO(pdf))
    return [
        (float(p.mediabox.width), float(p.mediabox.height), p.extract_text())
        for p in reader.pages
    ]


def render_pages(pdf: bytes, scale: float = PRINTER_SCALE) -> list[Image.Image]:
    doc = pdfium.PdfDocument(pdf)
    try:
        return [page.render(scale=scale).to_pil().convert("L") for page in doc]
    finally:
        doc.close()


def decode_qr(image: Image.Image) -> list[str]:
    return [
        result.text
        for result in zxingcpp.read_barcodes(image)
        if result.format == zxingcpp.BarcodeFormat.QRCode
    ]
