from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template

from patolab.core.pdf.styles import format_money

register = template.Library()


@register.filter
def money(value: Any) -> str:
    """`$ 12.345,67`."""
    if value in (None, ""):
        return "—"
    return format_money(Decimal(value))


@register.filter
def net(work_order: Any) -> Decimal:
    return Decimal(work_order.total) - Decimal(work_order.tax_total)


@register.filter
def balance(work_order: Any) -> Decimal:
    return Decimal(work_order.total) - Decimal(work_order.advance_payment)
