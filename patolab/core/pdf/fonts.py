"""Embedded TrueType fonts with Spanish glyphs (á é í ó ú ñ ü °).

Bitstream Vera ships inside the ReportLab package, so every machine that can
install ReportLab has it: no system fonts needed.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import reportlab
from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONT_DIR = Path(reportlab.__file__).resolve().parent / "fonts"
REGULAR = "PatolabSans"
BOLD = "PatolabSans-Bold"
ITALIC = "PatolabSans-Italic"
BOLD_ITALIC = "PatolabSans-BoldItalic"


@cache
def register_fonts() -> None:
    """Register the family once per process (idempotent)."""
    for name, filename in (
        (REGULAR, "Vera.ttf"),
        (BOLD, "VeraBd.ttf"),
        (ITALIC, "VeraIt.ttf"),
        (BOLD_ITALIC, "VeraBI.ttf"),
    ):
        pdfmetrics.registerFont(TTFont(name, str(FONT_DIR / filename)))
    addMapping(REGULAR, 0, 0, REGULAR)
    addMapping(REGULAR, 1, 0, BOLD)
    addMapping(REGULAR, 0, 1, ITALIC)
    addMapping(REGULAR, 1, 1, BOLD_ITALIC)
