"""The pricing catalog and the money math of work orders.

Decisions (the issue leaves them to us):

* **Catalog prices include IVA.** The lab's price list is what a veterinarian pays,
  whatever their IVA condition; a work order's total is the same for every
  condition. For a *responsable inscripto* the 21 % IVA is **discriminated**: the
  PDF shows "Neto gravado" + "IVA 21 %" = "Total" (Factura A style). For
  monotributista, exento and consumidor final the IVA is **included**: the PDF shows
  the total with IVA included and, for transparency (Ley 27.743), the IVA it
  contains. `tax_total` always holds that IVA amount.
* Each line: `gross = quantity * unit_price`, `discount = gross * discount% / 100`
  rounded to cents (ROUND_HALF_UP), `amount = gross - discount`.
* Totals: `subtotal = sum(gross)`, `discount_total = sum(discount)`,
  `total = subtotal - discount_total`, `net = total / 1.21` rounded to cents,
  `tax_total = total - net` (so net + IVA always adds up to the total exactly),
  `balance = total - advance_payment`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q, QuerySet
from django.utils import timezone

from .models import PricingItem, TaxCondition

CENT = Decimal("0.01")
IVA_RATE = Decimal("0.21")
HUNDRED = Decimal("100")


def money(value: Decimal | int | str) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def pricing_valid_on(day: date | None = None) -> QuerySet[PricingItem]:
    """Catalog items usable on `day` (today by default): active and inside their
    validity window (open ends allowed)."""
    day = day or timezone.localdate()
    return PricingItem.objects.filter(
        Q(active=True)
        & (Q(valid_from__isnull=True) | Q(valid_from__lte=day))
        & (Q(valid_to__isnull=True) | Q(valid_to__gte=day))
    ).order_by("code")


def pricing_by_codes(
    codes: Iterable[str], day: date | None = None
) -> dict[str, PricingItem]:
    return {item.code: item for item in pricing_valid_on(day).filter(code__in=codes)}


def pricing_for_analysis(
    analysis_type: str, day: date | None = None
) -> PricingItem | None:
    """The catalog item that prices a protocol of this analysis type (the first
    valid one by code when several match)."""
    return pricing_valid_on(day).filter(analysis_type=analysis_type).first()


@dataclass(frozen=True)
class LineAmounts:
    gross: Decimal
    discount: Decimal
    amount: Decimal


def line_amounts(
    *, quantity: int, unit_price: Decimal, discount_percent: Decimal
) -> LineAmounts:
    gross = money(Decimal(quantity) * Decimal(unit_price))
    discount = money(gross * Decimal(discount_percent) / HUNDRED)
    return LineAmounts(gross=gross, discount=discount, amount=gross - discount)


@dataclass(frozen=True)
class Totals:
    subtotal: Decimal
    discount_total: Decimal
    total: Decimal
    net: Decimal
    tax_total: Decimal
    tax_discriminated: bool
    advance_payment: Decimal
    balance: Decimal


def tax_is_discriminated(tax_condition: str) -> bool:
    return tax_condition == TaxCondition.RESPONSABLE_INSCRIPTO


def compute_totals(
    *, lines: Iterable[LineAmounts], tax_condition: str, advance_payment: Decimal
) -> Totals:
    items = list(lines)
    subtotal = sum((line.gross for line in items), Decimal("0.00"))
    discount_total = sum((line.discount for line in items), Decimal("0.00"))
    total = subtotal - discount_total
    net = money(total / (1 + IVA_RATE))
    advance = money(advance_payment)
    return Totals(
        subtotal=subtotal,
        discount_total=discount_total,
        total=total,
        net=net,
        tax_total=total - net,
        tax_discriminated=tax_is_discriminated(tax_condition),
        advance_payment=advance,
        balance=total - advance,
    )
