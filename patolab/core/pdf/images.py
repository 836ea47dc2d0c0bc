"""Raster images (the lab's logo) drawn from a per-process cache.

`canvas.drawImage` decodes and deflates an image again for every document; a
logo is the same bytes in every PDF, so its image object is built once per
(path, modification time) and only registered in each document. The image is
flattened onto white (no soft mask) and scaled down to what print needs.
"""

from __future__ import annotations

import hashlib
import io
import os
import struct
import threading
from functools import lru_cache
from typing import Any

from reportlab.pdfbase import pdfdoc
from reportlab.pdfgen.canvas import Canvas

MAX_PIXELS = 240  # longest side: ~300 dpi at 20 mm
_lock = threading.Lock()


class _PngImage(pdfdoc.PDFObject):  # type: ignore[misc]  # untyped library class
    """An RGB image XObject whose data is a PNG's own deflate stream: PDF's
    Flate filter with the PNG predictors (/Predictor 15) reads it as is, which
    keeps the PNG's row filtering (often 4x smaller than deflated raw pixels)."""

    def __init__(self, name: str, width: int, height: int, data: bytes) -> None:
        self.name = name
        self.width = width
        self.height = height
        self.data = data

    def format(self, document: Any) -> bytes:
        stream = pdfdoc.PDFStream(
            dictionary=pdfdoc.PDFDictionary(
                {
                    "Type": pdfdoc.PDFName("XObject"),
                    "Subtype": pdfdoc.PDFName("Image"),
                    "Width": self.width,
                    "Height": self.height,
                    "BitsPerComponent": 8,
                    "ColorSpace": pdfdoc.PDFName("DeviceRGB"),
                    "Filter": pdfdoc.PDFArray([pdfdoc.PDFName("FlateDecode")]),
                    # One parameter dictionary per filter (viewers ignore a
                    # bare dictionary next to a filter array).
                    "DecodeParms": pdfdoc.PDFArray(
                        [
                            pdfdoc.PDFDictionary(
                                {
                                    "Predictor": 15,
                                    "Colors": 3,
                                    "BitsPerComponent": 8,
                                    "Columns": self.width,
                                }
                            )
                        ]
                    ),
                }
            ),
            content=self.data,
        )
        return bytes(stream.format(document))


def _png_idat(png: bytes) -> bytes:
    """The concatenated IDAT payload (one zlib stream) of a PNG file."""
    position = 8  # signature
    chunks = []
    while position < len(png):
        (length,) = struct.unpack(">I", png[position : position + 4])
        kind = png[position + 4 : position + 8]
        if kind == b"IDAT":
            chunks.append(png[position + 8 : position + 8 + length])
        position += 12 + length
    return b"".join(chunks)


@lru_cache(maxsize=8)
def _image_object(path: str, mtime: float) -> _PngImage | None:
    from PIL import Image

    try:
        with Image.open(path) as source:
            source.load()
            image = source.convert("RGBA")
    except OSError:
        return None
    image.thumbnail((MAX_PIXELS, MAX_PIXELS))
    flat = Image.new("RGB", image.size, (255, 255, 255))
    flat.paste(image, mask=image.getchannel("A"))
    buffer = io.BytesIO()
    flat.save(buffer, format="PNG", optimize=True)  # RGB, 8 bit, not interlaced
    png = buffer.getvalue()
    # Named by content, so the same logo gives the same bytes in every process.
    name = "logo" + hashlib.sha256(png).hexdigest()[:16]
    return _PngImage(name, flat.width, flat.height, _png_idat(png))


def image_size(path: str) -> tuple[int, int] | None:
    """Pixel size of the cached image at `path`, or None if it cannot be read."""
    xobject = _cached(path)
    return None if xobject is None else (xobject.width, xobject.height)


def _cached(path: str) -> _PngImage | None:
    if not path:
        return None
    try:
        mtime = os.stat(path).st_mtime
    except OSError:
        return None
    with _lock:
        return _image_object(path, mtime)


def draw_image(
    canvas: Canvas, path: str, x: float, y: float, *, height: float
) -> float:
    """Draw the image at `path` `height` points tall with its bottom-left
    corner at (x, y); returns the drawn width (0 when there is no image)."""
    xobject = _cached(path)
    if xobject is None:
        return 0.0
    width = height * xobject.width / xobject.height
    doc = canvas._doc
    registered = doc.getXObjectName(xobject.name)
    if registered not in doc.idToObject:
        # A fresh object per document (ReportLab marks registered objects),
        # sharing the encoded bytes.
        xobject = _PngImage(xobject.name, xobject.width, xobject.height, xobject.data)
        # What canvas.drawImage does on first use in a document.
        canvas._setXObjects(xobject)
        doc.Reference(xobject, registered)
        doc.addForm(xobject.name, xobject)
    canvas._currentPageHasImages = 1
    canvas.saveState()
    canvas.translate(x, y)
    canvas.scale(width, height)
    canvas._code.append(f"/{registered} Do")
    canvas.restoreState()
    canvas._formsinuse.append(xobject.name)
    return width
