"""Rows with chosen timestamps, written straight to the tables (the services
stamp `now()`, and statistics are about the past)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from itertools import count
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings

from patolab.accounts.models import User
from patolab.protocols.models import Protocol, ProtocolStatusHistory
from patolab.reports.models import Report
from patolab.workorders.models import WorkOrder

_seq = count(1)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A local (lab time zone) moment."""
    return datetime.combine(
        day, time(hour, minute), tzinfo=ZoneInfo(settings.TIME_ZONE)
    )


def protocol(
    vet_user: User,
    *,
    analysis_type: str = "histopathology",
    history: list[tuple[str, datetime]] = (),  # type: ignore[assignment]
    **fields: Any,
) -> Protocol:
    """A protocol whose status history is `history` [(to_status, when), ...];
    its current status and timestamps follow from it unless given."""
    n = next(_seq)
    status = history[-1][0] if history else "submitted"
    stamps: dict[str, Any] = {}
    for to_status, when in history:
        key = {
            "submitted": "submitted_at",
            "received": "received_at",
            "report_sent": "report_sent_at",
        }.get(to_status)
        if key:
            stamps[key] = when
    p = Protocol.objects.create(
        analysis_type=analysis_type,
        status=status,
        temporary_code=f"TMP-T-{n:06d}",
        protocol_number=f"HP 26/{n:05d}" if "received_at" in stamps else None,
        veterinarian=vet_user.veterinarian,
        species="Canino",
        animal_name=f"Animal {n}",
        sampling_date=date(2026, 1, 1),
        **{**stamps, **fields},
    )
    previous = ""
    for to_status, when in history:
        row = ProtocolStatusHistory.objects.create(
            protocol=p, from_status=previous, to_status=to_status
        )
        ProtocolStatusHistory.objects.filter(pk=row.pk).update(changed_at=when)
        previous = to_status
    return p


def report(p: Protocol, pathologist: User, *, finalized_at: datetime | None) -> Report:
    version = p.reports.count() + 1
    return Report.objects.create(
        protocol=p,
        version=version,
        status="finalized" if finalized_at else "draft",
        histopathologist=pathologist,
        diagnosis="Diagnóstico",
        finalized_at=finalized_at,
    )


def work_order(vet_user: User, *, total: str, issued_at: datetime | None) -> WorkOrder:
    n = next(_seq)
    return WorkOrder.objects.create(
        number=f"OT-2026-{n:04d}",
        veterinarian=vet_user.veterinarian,
        status="issued" if issued_at else "draft",
        billing_name="Clínica Ñandú",
        tax_condition="consumidor_final",
        total=Decimal(total),
        issued_at=issued_at,
    )


def days(n: float) -> timedelta:
    return timedelta(days=n)
