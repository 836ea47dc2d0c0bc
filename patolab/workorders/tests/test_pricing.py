from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from ..models import PricingItem, TaxCondition
from ..pricing import (
    compute_totals,
    line_amounts,
    pricing_for_analysis,
    pricing_valid_on,
)

D = Decimal


def test_line_discount_is_rounded_half_up_to_cents():
    line = line_amounts(quantity=3, unit_price=D("333.35"), discount_percent=D("12.5"))
    assert line.gross == D("1000.05")
    # 1000.05 * 12.5 % = 125.00625 -> 125.01
    assert line.discount == D("125.01")
    assert line.amount == D("875.04")


def test_hundred_percent_discount_makes_the_line_free():
    line = line_amounts(quantity=2, unit_price=D("62000"), discount_percent=D("100"))
    assert line.amount == D("0.00")


def test_responsable_inscripto_gets_iva_discriminated_and_parts_add_up():
    lines = [
        line_amounts(quantity=1, unit_price=D("62000.00"), discount_percent=D("0")),
        line_amounts(quantity=2, unit_price=D("9500.00"), discount_percent=D("10")),
    ]
    totals = compute_totals(
        lines=lines,
        tax_condition=TaxCondition.RESPONSABLE_INSCRIPTO,
        advance_payment=D("20000"),
    )
    assert totals.subtotal == D("81000.00")
    assert totals.discount_total == D("1900.00")
    assert totals.total == D("79100.00")
    # 79100 / 1.21 = 65371.900826... -> 65371.90 ; IVA = the rest
    assert totals.net == D("65371.90")
    assert totals.tax_total == D("13728.10")
    assert totals.net + totals.tax_total == totals.total
    assert totals.tax_discriminated is True
    assert totals.balance == D("59100.00")


@pytest.mark.parametrize(
    "condition",
    [
        TaxCondition.MONOTRIBUTISTA,
        TaxCondition.EXENTO,
        TaxCondition.CONSUMIDOR_FINAL,
    ],
)
def test_other_conditions_pay_the_same_total_with_iva_included(condition):
    lines = [line_amounts(quantity=1, unit_price=D("38500"), discount_percent=D("0"))]
    totals = compute_totals(lines=lines, tax_condition=condition, advance_payment=D(0))
    assert totals.total == D("38500.00")
    assert totals.tax_discriminated is False
    assert totals.tax_total == D("6681.82")  # IVA contained in 38.500
    assert totals.balance == totals.total


def test_catalog_offers_only_items_valid_today(db):
    today = timezone.localdate()
    PricingItem.objects.create(code="OK", description="vigente", unit_price=1)
    PricingItem.objects.create(
        code="OLD",
        description="vencido",
        unit_price=1,
        valid_to=today - timedelta(days=1),
    )
    PricingItem.objects.create(
        code="NEW",
        description="futuro",
        unit_price=1,
        valid_from=today + timedelta(days=1),
    )
    PricingItem.objects.create(
        code="OFF", description="inactivo", unit_price=1, active=False
    )
    assert [i.code for i in pricing_valid_on()] == ["OK"]
    assert [i.code for i in pricing_valid_on(today + timedelta(days=1))] == [
        "NEW",
        "OK",
    ]


def test_protocol_is_priced_by_analysis_type_with_the_current_price(db):
    PricingItem.objects.create(
        code="HP-2025",
        description="Histo 2025",
        analysis_type="histopathology",
        unit_price=48000,
        valid_to=date(2025, 12, 31),
    )
    PricingItem.objects.create(
        code="HP-2026",
        description="Histo 2026",
        analysis_type="histopathology",
        unit_price=62000,
        valid_from=date(2026, 1, 1),
    )
    assert pricing_for_analysis("histopathology", date(2026, 3, 1)).code == "HP-2026"
    assert pricing_for_analysis("histopathology", date(2025, 3, 1)).code == "HP-2025"
    assert pricing_for_analysis("cytology", date(2026, 3, 1)) is None
