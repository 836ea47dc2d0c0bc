"""The fast QR matrix is exactly one of ReportLab's own symbols for the value."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader
from reportlab.graphics.barcode.qrencoder import QRCode

from patolab.core.pdf.qr import LEVELS, qr_rows
from patolab.labels.render import LabelData, render_labels

VALUES = [
    "http://127.0.0.1:8000/protocolos/1/",
    "https://patolab.fcv.unlp.edu.ar/protocolos/123456/",
    "https://lab.example/protocolos/9/?ñandú=sí",
    "x" * 200,  # version >= 7: version information blocks
    "12345678",
    "HELLO WORLD",
]


def reportlab_symbol(value: str, level: str, mask: int) -> tuple[str, ...]:
    qr = QRCode(None, LEVELS[level])
    qr.addData(value)
    qr.version = qr.calculate_version()
    qr.makeImpl(False, mask)
    return tuple("".join("1" if dark else "0" for dark in row) for row in qr.modules)


@pytest.mark.parametrize("level", ["L", "M", "Q", "H"])
@pytest.mark.parametrize("value", VALUES)
def test_matrix_equals_reportlab_symbol_for_the_chosen_mask(
    value: str, level: str
) -> None:
    rows = qr_rows(value, level)
    matches = [m for m in range(8) if reportlab_symbol(value, level, m) == rows]
    assert len(matches) == 1


def test_labels_are_vector_with_no_embedded_images() -> None:
    from datetime import date

    pdf = render_labels(
        [LabelData("HP 26/1", "Toby", "Canino", date(2026, 1, 1), 1, VALUES[0])]
    )
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    resources = page["/Resources"]
    xobjects = resources.get("/XObject", {}) if resources else {}
    assert not [x for x in xobjects.values() if x.get_object()["/Subtype"] == "/Image"]
    assert b" re\n" in page.get_contents().get_data()
