"""The embedded fonts' per-process shortcuts leave what ReportLab would."""

from __future__ import annotations

import io

from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from patolab.core.pdf.fonts import BOLD, SPANISH_GLYPHS, claim_glyphs, register_fonts


def test_claiming_glyphs_leaves_the_subset_state_reportlab_would() -> None:
    """`claim_glyphs` copies a state claimed once per process; it must be the
    state claiming in this very document gives, or text would be encoded with
    other codes than the embedded subset has."""
    register_fonts()
    font = pdfmetrics.getFont(BOLD)
    canvas = Canvas(io.BytesIO(), invariant=1)
    claim_glyphs(canvas, BOLD)
    claimed = font.state[canvas._doc]
    reference = pdfdoc.PDFDocument(invariant=1)
    font.splitString(SPANISH_GLYPHS, reference)
    expected = font.state[reference]
    assert vars(claimed) == vars(expected)
    # A copy: adding a glyph to this document leaves the next one alone.
    font.splitString("çõ", canvas._doc)
    assert vars(claimed) != vars(expected)
    other = Canvas(io.BytesIO(), invariant=1)
    claim_glyphs(other, BOLD)
    assert vars(font.state[other._doc]) == vars(expected)
