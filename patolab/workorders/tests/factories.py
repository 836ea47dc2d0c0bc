"""Test data for work orders. Protocols are created directly as rows (already
received), so these tests do not depend on the reception workflow."""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal
from typing import Any

from django.utils import timezone

from patolab.accounts.models import User, Veterinarian
from patolab.protocols.models import AnalysisType, Protocol, ProtocolStatus

from ..models import PricingItem

_seq = itertools.count(1)

CATALOG = [
    ("CIT-01", "Citología", AnalysisType.CYTOLOGY, "38500.00"),
    ("HP-01", "Histopatología (1 frasco)", AnalysisType.HISTOPATHOLOGY, "62000.00"),
    ("HP-ADIC", "Histopatología: muestra adicional", "", "24500.00"),
    ("IHQ-01", "Inmunohistoquímica", "", "98000.00"),
    ("ENV-01", "Envío de muestras", "", "9500.00"),
]


def make_catalog() -> dict[str, PricingItem]:
    items = {}
    for code, description, analysis, price in CATALOG:
        items[code] = PricingItem.objects.create(
            code=code,
            description=description,
            analysis_type=analysis,
            unit_price=Decimal(price),
            valid_from=date(2020, 1, 1),
        )
    return items


def vet_of(user: User) -> Veterinarian:
    return user.veterinarian


def make_protocol(
    vet: Veterinarian | User,
    *,
    analysis_type: str = AnalysisType.HISTOPATHOLOGY,
    status: str = ProtocolStatus.RECEIVED,
    **fields: Any,
) -> Protocol:
    if isinstance(vet, User):
        vet = vet.veterinarian
    n = next(_seq)
    prefix = "HP" if analysis_type == AnalysisType.HISTOPATHOLOGY else "CT"
    received = status not in (ProtocolStatus.SUBMITTED, ProtocolStatus.DRAFT)
    values: dict[str, Any] = {
        "analysis_type": analysis_type,
        "status": status,
        "temporary_code": f"TMP-{prefix}-20260101-{n:04d}",
        "protocol_number": f"{prefix} 26/{n:03d}" if received else None,
        "veterinarian": vet,
        "species": "Canino",
        "animal_name": f"Firulais {n}",
        "owner_name": "Señora Núñez",
        "sampling_date": date(2026, 1, 1),
        "submitted_at": timezone.now(),
        "received_at": timezone.now() if received else None,
    }
    values.update(fields)
    return Protocol.objects.create(**values)
