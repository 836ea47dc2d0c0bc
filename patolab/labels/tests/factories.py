"""Protocols for label tests, made through the ORM (the reception service
belongs to the protocols app)."""

from __future__ import annotations

import itertools
from datetime import date, datetime
from zoneinfo import ZoneInfo

from patolab.accounts.models import User
from patolab.protocols.models import Protocol, ProtocolStatus, Reception

_seq = itertools.count(1)
AR = ZoneInfo("America/Argentina/Buenos_Aires")


def make_protocol(
    *,
    vet: User,
    received_by: User | None = None,
    number: str | None = None,
    animal_name: str = "Firulais",
    species: str = "Canino",
    containers: int = 2,
    received_at: datetime | None = None,
) -> Protocol:
    """A histopathology protocol; received (number + Reception row) when
    `received_by` is given."""
    n = next(_seq)
    protocol = Protocol.objects.create(
        analysis_type="histopathology",
        status=ProtocolStatus.SUBMITTED,
        temporary_code=f"TMP-HP-20261128-{n:04d}",
        veterinarian=vet.veterinarian,
        species=species,
        animal_name=animal_name,
        sampling_date=date(2026, 11, 20),
        containers=containers,
    )
    if received_by is not None:
        when = received_at or datetime(2026, 11, 28, 10, 30, tzinfo=AR)
        protocol.protocol_number = number or f"HP 26/{n:03d}"
        protocol.status = ProtocolStatus.RECEIVED
        protocol.received_at = when
        protocol.save()
        Reception.objects.create(
            protocol=protocol,
            sample_condition="optimal",
            containers_received=containers,
            received_by=received_by,
            received_at=when,
        )
    return protocol
