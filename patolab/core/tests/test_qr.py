"""The fast QR matrix is exactly one of ReportLab's own symbols for the value."""

from __future__ import annotations

import io
import re

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


def reportlab_symbol(
    value: str, level: str, mask: int, *, test: bool = False
) -> tuple[str, ...]:
    """ReportLab's symbol with `mask`; `test=True` leaves the format (and
    version) information light, as ReportLab's encoder does when it scores
    the masks."""
    qr = QRCode(None, LEVELS[level])
    qr.addData(value)
    qr.version = qr.calculate_version()
    qr.makeImpl(test, mask)
    return tuple("".join("1" if dark else "0" for dark in row) for row in qr.modules)


@pytest.mark.parametrize("level", ["L", "M", "Q", "H"])
@pytest.mark.parametrize("value", VALUES)
def test_matrix_equals_reportlab_symbol_for_the_chosen_mask(
    value: str, level: str
) -> None:
    rows = qr_rows(value, level)
    matches = [m for m in range(8) if reportlab_symbol(value, level, m) == rows]
    assert len(matches) == 1


def iso_penalty(rows: tuple[str, ...]) -> int:
    """ISO/IEC 18004 mask penalty, rule by rule on row and column strings."""
    n = len(rows)
    cols = ["".join(row[c] for row in rows) for c in range(n)]
    score = 0
    for line in (*rows, *cols):
        score += sum(len(run) - 2 for run in re.findall(r"0{5,}|1{5,}", line))
        for pattern in ("10111010000", "00001011101"):
            score += 40 * sum(line.startswith(pattern, i) for i in range(n))
    for r in range(n - 1):
        for c in range(n - 1):
            if rows[r][c] == rows[r][c + 1] == rows[r + 1][c] == rows[r + 1][c + 1]:
                score += 3
    dark = sum(row.count("1") for row in rows)
    return score + 10 * (abs(100 * dark // (n * n) - 50) // 5)


@pytest.mark.parametrize("level", ["L", "M"])
@pytest.mark.parametrize("value", VALUES)
def test_chosen_mask_has_the_lowest_iso_penalty(value: str, level: str) -> None:
    """Scored like ReportLab's encoder: format information left light."""
    scores = [
        iso_penalty(reportlab_symbol(value, level, m, test=True)) for m in range(8)
    ]
    best = scores.index(min(scores))
    assert qr_rows(value, level) == reportlab_symbol(value, level, best)


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
