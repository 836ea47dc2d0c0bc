"""Shared paragraph styles and Argentine number/date formatting for PDFs."""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle

from .fonts import BOLD, REGULAR, register_fonts

BRAND = colors.HexColor("#1d5c7a")
MUTED = colors.HexColor("#5f6b7a")


def paragraph_styles() -> dict[str, ParagraphStyle]:
    register_fonts()
    base = ParagraphStyle("base", fontName=REGULAR, fontSize=9.5, leading=13)
    return {
        "base": base,
        "small": ParagraphStyle(
            "small", parent=base, fontSize=8, leading=10, textColor=MUTED
        ),
        "title": ParagraphStyle(
            "title",
            parent=base,
            fontName=BOLD,
            fontSize=15,
            leading=19,
            textColor=BRAND,
        ),
        "h2": ParagraphStyle(
            "h2",
            parent=base,
            fontName=BOLD,
            fontSize=11,
            leading=15,
            spaceBefore=8,
            spaceAfter=3,
            textColor=BRAND,
        ),
        "label": ParagraphStyle(
            "label", parent=base, fontName=BOLD, fontSize=8.5, leading=11
        ),
        "right": ParagraphStyle("right", parent=base, alignment=2),
    }


def format_money(value: Decimal | int | float) -> str:
    """`$ 12.345,67` (Argentine format: dot for thousands, comma for decimals)."""
    amount = Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    sign = "-" if amount < 0 else ""
    integer, _, cents = f"{abs(amount):.2f}".partition(".")
    groups = f"{int(integer):,}".replace(",", ".")
    return f"{sign}$ {groups},{cents}"


def format_decimal(value: Decimal | int | float, places: int = 2) -> str:
    text = f"{Decimal(value):,.{places}f}"
    return text.replace(",", "_").replace(".", ",").replace("_", ".")


def format_date(value: date | datetime | None) -> str:
    if value is None:
        return "—"
    return value.strftime("%d/%m/%Y")


def escape(text: str) -> str:
    """Escape user text for a Paragraph (which parses a little XML)."""
    return (
        (text or "")
        .replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\n", "<br/>")
    )
