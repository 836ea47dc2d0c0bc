"""Demo pricing catalog (ARS, 2026 levels) and ~15 work orders over received
protocols of the demo veterinarians. Idempotent."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from patolab.accounts.models import Role, User, Veterinarian
from patolab.protocols.models import AnalysisType

from .models import PricingItem, TaxCondition, WorkOrder
from .selectors import protocols_billable_for
from .services import (
    LineInput,
    workorder_balance,
    workorder_create,
    workorder_issue,
    workorder_mark_sent,
    workorder_payment_record,
)

CATALOG = [
    ("CIT-01", "Citología (hasta 3 portaobjetos)", AnalysisType.CYTOLOGY, "38500"),
    ("CIT-ADIC", "Citología: portaobjeto adicional", "", "6200"),
    ("HP-01", "Histopatología (1 frasco)", AnalysisType.HISTOPATHOLOGY, "62000"),
    ("HP-ADIC", "Histopatología: muestra adicional", "", "24500"),
    ("HP-MARG", "Evaluación de márgenes quirúrgicos", "", "18000"),
    ("IHQ-01", "Inmunohistoquímica (por marcador)", "", "98000"),
    ("ESP-01", "Tinción especial (PAS, Giemsa, Ziehl-Neelsen)", "", "21000"),
    ("NEC-P", "Necropsia pequeño animal", "", "145000"),
    ("NEC-G", "Necropsia gran animal", "", "320000"),
    ("BIOP-MO", "Biopsia de médula ósea", "", "85000"),
    ("ENV-01", "Envío de muestras (retiro en clínica)", "", "9500"),
    ("URG-01", "Recargo por urgencia (48 h)", "", "30000"),
    ("2DA-OP", "Segunda opinión (revisión de preparados)", "", "55000"),
]
# A 2025 price kept for history: not valid any more, so not offered.
EXPIRED = (
    "HP-01-2025",
    "Histopatología (1 frasco) · tarifa 2025",
    AnalysisType.HISTOPATHOLOGY,
    "48000",
)

# CUITs with a correct check digit.
CUITS = [
    "20-12345678-6",
    "27-31456789-2",
    "30-71234567-1",
    "20-25987654-1",
    "23-28456123-6",
    "27-29123456-4",
]

TARGET_ORDERS = 15


def seed(stdout: Any) -> None:
    for code, description, analysis, price in CATALOG:
        PricingItem.objects.get_or_create(
            code=code,
            defaults={
                "description": description,
                "analysis_type": analysis,
                "unit_price": Decimal(price),
                "valid_from": date(2026, 1, 1),
                "active": True,
            },
        )
    code, description, analysis, price = EXPIRED
    PricingItem.objects.get_or_create(
        code=code,
        defaults={
            "description": description,
            "analysis_type": analysis,
            "unit_price": Decimal(price),
            "valid_from": date(2025, 1, 1),
            "valid_to": date(2025, 12, 31),
            "active": True,
        },
    )
    existing = WorkOrder.objects.count()
    creator = (
        User.objects.filter(role=Role.LAB_STAFF).first()
        or User.objects.filter(role=Role.ADMIN).first()
    )
    rng = random.Random(2026)  # noqa: S311 - demo data
    made = 0
    vets = list(Veterinarian.objects.order_by("pk"))
    conditions = list(TaxCondition.values)
    for round_ in range(4):
        for vet in vets:
            if existing + made >= TARGET_ORDERS:
                break
            protocols = list(protocols_billable_for(veterinarian=vet)[:3])
            if not protocols:
                continue
            take = protocols[: rng.randint(1, len(protocols))]
            condition = conditions[(vet.pk + round_) % len(conditions)]
            extra: list[LineInput] = []
            if rng.random() < 0.4:
                extra.append(LineInput(code="ENV-01", quantity=1))
            if rng.random() < 0.25:
                extra.append(
                    LineInput(
                        code="IHQ-01", quantity=rng.randint(1, 2), discount_percent=10
                    )
                )
            if rng.random() < 0.2:
                extra.append(LineInput(code="URG-01", quantity=1))
            wo = workorder_create(
                veterinarian=vet,
                protocols=take,
                lines=extra,
                auto_protocol_lines=True,
                tax_condition=condition,
                billing_name=vet.full_name,
                cuit=""
                if condition == TaxCondition.CONSUMIDOR_FINAL
                else CUITS[vet.pk % len(CUITS)],
                advance_payment=rng.choice([0, 0, 0, 0, 10000, 20000]),
                notes=rng.choice(
                    ["", "Pago por transferencia.", "Facturar a la clínica."]
                ),
                created_by=creator,
            )
            made += 1
            # Spread the demo orders over the last weeks, oldest number first
            # (demo only: the services always stamp "now").
            created = timezone.now() - timedelta(days=3 * (TARGET_ORDERS - made) + 1)
            WorkOrder.objects.filter(pk=wo.pk).update(created_at=created)
            roll = rng.random()
            if roll < 0.6:
                wo = workorder_issue(work_order=wo, user=creator)
                WorkOrder.objects.filter(pk=wo.pk).update(
                    issued_at=created + timedelta(hours=2)
                )
                if roll < 0.3:
                    workorder_mark_sent(work_order=wo, user=creator)
                if rng.random() < 0.5 and workorder_balance(work_order=wo) > 0:
                    workorder_payment_record(
                        work_order=wo,
                        amount=workorder_balance(work_order=wo),
                        paid_on=timezone.localdate(),
                        user=creator,
                    )
    stdout.write(
        f"Work orders: {PricingItem.objects.count()} catalog items, "
        f"{made} new work orders ({existing + made} total)"
    )
