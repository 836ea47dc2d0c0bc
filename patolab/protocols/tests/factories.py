"""Test helpers that build protocols through the real services."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from patolab.accounts.models import User
from patolab.protocols.models import Protocol
from patolab.protocols.services import protocol_create, protocol_receive


def histo_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "analysis_type": "histopathology",
        "species": "Canino",
        "breed": "Labrador",
        "sex": "female",
        "age": "7 años",
        "animal_name": "Luna",
        "owner_name": "Marta Gómez",
        "presumptive_diagnosis": "Mastocitoma",
        "clinical_history": "Nódulo cutáneo de 2 cm en flanco izquierdo.",
        "sampling_date": timezone.localdate() - timedelta(days=1),
        "material_submitted": "Nódulo cutáneo",
        "containers": 2,
    }
    data.update(overrides)
    return data


def cyto_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "analysis_type": "cytology",
        "species": "Felino",
        "animal_name": "Michi",
        "owner_name": "Juan Pérez",
        "sampling_date": timezone.localdate(),
        "technique": "PAAF",
        "sampling_site": "Linfonodo submandibular",
        "slides": 3,
    }
    data.update(overrides)
    return data


def make_protocol(
    vet_user: User, *, notify: bool = False, **overrides: Any
) -> Protocol:
    kind = overrides.pop("kind", "histopathology")
    data = (
        histo_data(**overrides) if kind == "histopathology" else cyto_data(**overrides)
    )
    return protocol_create(
        veterinarian=vet_user.veterinarian, created_by=vet_user, notify=notify, **data
    )


def make_received(vet_user: User, staff: User, **overrides: Any) -> Protocol:
    protocol = make_protocol(vet_user, **overrides)
    return protocol_receive(
        protocol=protocol,
        received_by=staff,
        sample_condition="optimal",
        containers=protocol.declared_count,
        notify=False,
    )
