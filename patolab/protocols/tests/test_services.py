from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.utils import timezone

from patolab.core.errors import Conflict, InvalidTransition, ValidationFailed
from patolab.protocols.models import (
    Counter,
    Protocol,
    ProtocolStatus,
    ProtocolStatusHistory,
    Reception,
)
from patolab.protocols.services import (
    TRANSITIONS,
    protocol_create,
    protocol_number_next,
    protocol_receive,
    protocol_reject,
    protocol_status_change,
    protocol_transition,
)

from .factories import cyto_data, histo_data, make_protocol, make_received

pytestmark = pytest.mark.django_db
S = ProtocolStatus


def snapshot(protocol: Protocol) -> tuple:
    fresh = Protocol.objects.get(pk=protocol.pk)
    return (
        fresh.status,
        fresh.protocol_number,
        fresh.received_at,
        fresh.rejection_reason,
        ProtocolStatusHistory.objects.filter(protocol=protocol).count(),
        Reception.objects.filter(protocol=protocol).count(),
        dict(Counter.objects.values_list("key", "value")),
    )


# ---------------------------------------------------------------- submission
def test_create_assigns_temporary_code_per_type_and_day(vet_owner):
    with time_machine.travel("2026-03-05 12:00:00-03:00", tick=False):
        hp1 = make_protocol(vet_owner, sampling_date=date(2026, 3, 4))
        hp2 = make_protocol(vet_owner, sampling_date=date(2026, 3, 4))
        ct1 = make_protocol(vet_owner, kind="cytology", sampling_date=date(2026, 3, 4))
    assert hp1.temporary_code == "TMP-HP-20260305-001"
    assert hp2.temporary_code == "TMP-HP-20260305-002"
    assert ct1.temporary_code == "TMP-CT-20260305-001"
    assert hp1.status == S.SUBMITTED
    assert hp1.submitted_at is not None
    assert hp1.protocol_number is None


def test_create_writes_submission_history(vet_owner):
    protocol = make_protocol(vet_owner)
    rows = list(protocol.history.values_list("from_status", "to_status", "changed_by"))
    assert rows == [(S.DRAFT, S.SUBMITTED, vet_owner.pk)]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"analysis_type": ""}, "analysis_type"),
        ({"analysis_type": "biopsia"}, "analysis_type"),
        ({"species": ""}, "species"),
        ({"species": "Dragón"}, "species"),
        ({"animal_name": "   "}, "animal_name"),
        ({"sampling_date": None}, "sampling_date"),
        ({"sampling_date": "2026-02-30"}, "sampling_date"),
        ({"sex": "x"}, "sex"),
        ({"containers": 0}, "containers"),
        ({"containers": -2}, "containers"),
        ({"containers": "dos"}, "containers"),
        ({"material_submitted": ""}, "material_submitted"),
        ({"breed": "x" * 81}, "breed"),
    ],
)
def test_invalid_histopathology_submission_names_the_field(vet_owner, overrides, field):
    with pytest.raises(ValidationFailed) as exc:
        protocol_create(
            veterinarian=vet_owner.veterinarian,
            created_by=vet_owner,
            notify=False,
            **histo_data(**overrides),
        )
    assert field in exc.value.errors
    assert Protocol.objects.count() == 0
    assert not Counter.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"technique": ""}, "technique"),
        ({"technique": "biopsia"}, "technique"),
        ({"slides": 0}, "slides"),
    ],
)
def test_invalid_cytology_submission_names_the_field(vet_owner, overrides, field):
    with pytest.raises(ValidationFailed) as exc:
        protocol_create(
            veterinarian=vet_owner.veterinarian,
            created_by=vet_owner,
            notify=False,
            **cyto_data(**overrides),
        )
    assert field in exc.value.errors
    assert Protocol.objects.count() == 0


def test_future_sampling_date_is_refused_in_spanish(vet_owner):
    tomorrow = timezone.localdate() + timedelta(days=1)
    with pytest.raises(ValidationFailed) as exc:
        make_protocol(vet_owner, sampling_date=tomorrow)
    assert exc.value.errors["sampling_date"] == [
        "La fecha de toma de muestra no puede ser futura."
    ]
    assert Protocol.objects.count() == 0


# ---------------------------------------------------------------- numbering
def test_numbers_are_per_type_and_per_year(db):
    assert (
        protocol_number_next(analysis_type="histopathology", year=2026) == "HP 26/001"
    )
    assert (
        protocol_number_next(analysis_type="histopathology", year=2026) == "HP 26/002"
    )
    assert protocol_number_next(analysis_type="cytology", year=2026) == "CT 26/001"
    assert (
        protocol_number_next(analysis_type="histopathology", year=2027) == "HP 27/001"
    )
    assert protocol_number_next(analysis_type="cytology", year=2026) == "CT 26/002"


def test_receive_assigns_next_number_per_type_and_year(vet_owner, technician):
    with time_machine.travel("2026-12-31 20:00:00-03:00", tick=False):
        a = make_received(vet_owner, technician)
        b = make_received(vet_owner, technician, kind="cytology")
        c = make_received(vet_owner, technician)
    with time_machine.travel("2027-01-01 09:00:00-03:00", tick=False):
        d = make_received(vet_owner, technician)
    assert [a.protocol_number, b.protocol_number, c.protocol_number] == [
        "HP 26/001",
        "CT 26/001",
        "HP 26/002",
    ]
    # The local (Argentine) year decides, not UTC's.
    assert d.protocol_number == "HP 27/001"


def test_failed_reception_does_not_consume_a_number(vet_owner, technician):
    first = make_received(vet_owner, technician)
    bad = make_protocol(vet_owner)
    with pytest.raises(ValidationFailed):
        protocol_receive(
            protocol=bad,
            received_by=technician,
            sample_condition="optimal",
            containers=0,
            notify=False,
        )
    nxt = make_received(vet_owner, technician)
    year = timezone.localdate().year % 100
    assert first.protocol_number == f"HP {year:02d}/001"
    assert nxt.protocol_number == f"HP {year:02d}/002"


# ---------------------------------------------------------------- reception
def test_receive_creates_reception_and_moves_to_received(vet_owner, technician):
    protocol = make_protocol(vet_owner)
    received = protocol_receive(
        protocol=protocol,
        received_by=technician,
        sample_condition="acceptable",
        containers=2,
        notes="Frascos bien rotulados",
        notify=False,
    )
    assert received.status == S.RECEIVED
    assert received.received_at is not None
    reception = Reception.objects.get(protocol=protocol)
    assert reception.containers_received == 2
    assert reception.received_by == technician
    last = protocol.history.last()
    assert (last.from_status, last.to_status, last.changed_by) == (
        S.SUBMITTED,
        S.RECEIVED,
        technician,
    )


def test_count_differing_from_declared_needs_discrepancies(vet_owner, technician):
    protocol = make_protocol(vet_owner)  # 2 containers declared
    before = snapshot(protocol)
    with pytest.raises(ValidationFailed) as exc:
        protocol_receive(
            protocol=protocol,
            received_by=technician,
            sample_condition="optimal",
            containers=1,
            notify=False,
        )
    assert "discrepancies" in exc.value.errors
    assert snapshot(protocol) == before
    ok = protocol_receive(
        protocol=protocol,
        received_by=technician,
        sample_condition="optimal",
        containers=1,
        discrepancies="Llegó un solo frasco",
        notify=False,
    )
    assert ok.status == S.RECEIVED


@pytest.mark.parametrize(
    ("condition", "containers", "field"),
    [
        ("", 2, "sample_condition"),
        ("rota", 2, "sample_condition"),
        ("optimal", 0, "containers"),
        ("optimal", -1, "containers"),
        ("optimal", None, "containers"),
    ],
)
def test_bad_reception_input_changes_nothing(
    vet_owner, technician, condition, containers, field
):
    protocol = make_protocol(vet_owner)
    before = snapshot(protocol)
    with pytest.raises(ValidationFailed) as exc:
        protocol_receive(
            protocol=protocol,
            received_by=technician,
            sample_condition=condition,
            containers=containers,
            notify=False,
        )
    assert field in exc.value.errors
    assert snapshot(protocol) == before


def test_receiving_twice_is_a_conflict(vet_owner, technician):
    protocol = make_received(vet_owner, technician)
    before = snapshot(protocol)
    with pytest.raises(Conflict) as exc:
        protocol_receive(
            protocol=protocol,
            received_by=technician,
            sample_condition="optimal",
            containers=2,
            notify=False,
        )
    assert exc.value.code == "already_received"
    assert exc.value.status_code == 409
    assert "ya fue recibido" in exc.value.message
    assert snapshot(protocol) == before


def test_receiving_a_rejected_protocol_is_a_conflict(vet_owner, technician):
    protocol = make_protocol(vet_owner)
    protocol_reject(
        protocol=protocol, rejected_by=technician, reason="Frasco roto", notify=False
    )
    before = snapshot(protocol)
    with pytest.raises(Conflict) as exc:
        protocol_receive(
            protocol=protocol,
            received_by=technician,
            sample_condition="optimal",
            containers=2,
            notify=False,
        )
    assert exc.value.code == "protocol_rejected"
    assert snapshot(protocol) == before


def test_reject_needs_a_reason_and_records_it(vet_owner, technician):
    protocol = make_protocol(vet_owner)
    before = snapshot(protocol)
    with pytest.raises(ValidationFailed) as exc:
        protocol_reject(protocol=protocol, rejected_by=technician, reason="  ")
    assert "reason" in exc.value.errors
    assert snapshot(protocol) == before
    rejected = protocol_reject(
        protocol=protocol,
        rejected_by=technician,
        reason="Muestra sin formol",
        notify=False,
    )
    assert rejected.status == S.REJECTED
    assert rejected.rejection_reason == "Muestra sin formol"
    assert protocol.history.last().note == "Muestra sin formol"


def test_rejecting_a_received_protocol_is_a_conflict(vet_owner, technician):
    protocol = make_received(vet_owner, technician)
    with pytest.raises(Conflict):
        protocol_reject(protocol=protocol, rejected_by=technician, reason="tarde")
    assert Protocol.objects.get(pk=protocol.pk).status == S.RECEIVED


# ---------------------------------------------------------------- state machine
VALID_PATH = [S.RECEIVED, S.PROCESSING, S.READY, S.REPORT_SENT]


def test_full_lifecycle_writes_history_and_report_sent_at(vet_owner, technician):
    protocol = make_received(vet_owner, technician)
    for status in (S.PROCESSING, S.READY, S.REPORT_SENT):
        protocol = protocol_transition(
            protocol=protocol, to_status=status, user=technician, note=status
        )
    fresh = Protocol.objects.get(pk=protocol.pk)
    assert fresh.status == S.REPORT_SENT
    assert fresh.report_sent_at is not None
    assert list(fresh.history.values_list("to_status", flat=True)) == [
        S.SUBMITTED,
        S.RECEIVED,
        S.PROCESSING,
        S.READY,
        S.REPORT_SENT,
    ]


def _protocol_in(status: str, vet, staff) -> Protocol:
    """Reach `status` through the services only."""
    if status == S.DRAFT:
        protocol = make_protocol(vet)
        # A draft cannot be reached from submitted; build one directly.
        Protocol.objects.filter(pk=protocol.pk).update(status=S.DRAFT)
        return Protocol.objects.get(pk=protocol.pk)
    if status == S.SUBMITTED:
        return make_protocol(vet)
    if status == S.REJECTED:
        return protocol_reject(
            protocol=make_protocol(vet), rejected_by=staff, reason="x", notify=False
        )
    if status == S.CANCELLED:
        return protocol_transition(
            protocol=make_protocol(vet), to_status=S.CANCELLED, user=staff
        )
    protocol = make_received(vet, staff)
    for step in VALID_PATH[1:]:
        if protocol.status == status:
            break
        protocol = protocol_transition(protocol=protocol, to_status=step, user=staff)
    assert protocol.status == status
    return protocol


INVALID = [
    (src, dst) for src in S.values for dst in S.values if dst not in TRANSITIONS[src]
]


@pytest.mark.parametrize(("src", "dst"), INVALID)
def test_every_invalid_transition_is_refused_and_changes_nothing(
    vet_owner, technician, src, dst
):
    protocol = _protocol_in(src, vet_owner, technician)
    before = snapshot(protocol)
    with pytest.raises(InvalidTransition) as exc:
        protocol_transition(protocol=protocol, to_status=dst, user=technician)
    assert exc.value.status_code == 409
    assert "No se puede pasar el protocolo" in exc.value.message
    assert snapshot(protocol) == before


def test_unknown_status_is_refused(vet_owner, technician):
    protocol = make_protocol(vet_owner)
    with pytest.raises(InvalidTransition):
        protocol_transition(protocol=protocol, to_status="lost", user=technician)


def test_manual_change_to_received_or_report_sent_is_refused(vet_owner, technician):
    submitted = make_protocol(vet_owner)
    with pytest.raises(InvalidTransition) as exc:
        protocol_status_change(
            protocol=submitted, to_status=S.RECEIVED, user=technician
        )
    assert exc.value.code == "reception_required"
    ready = _protocol_in(S.READY, vet_owner, technician)
    with pytest.raises(InvalidTransition):
        protocol_status_change(protocol=ready, to_status=S.REPORT_SENT, user=technician)
    assert Protocol.objects.get(pk=ready.pk).status == S.READY


def test_manual_change_to_rejected_uses_the_note_as_reason(vet_owner, technician):
    protocol = make_protocol(vet_owner)
    changed = protocol_status_change(
        protocol=protocol,
        to_status=S.REJECTED,
        user=technician,
        note="Sin identificación",
        notify=False,
    )
    assert changed.rejection_reason == "Sin identificación"


PATH_TO_SENT = (S.RECEIVED, S.PROCESSING, S.READY, S.REPORT_SENT)


def test_advance_walks_the_path_one_history_row_per_step(vet_owner, technician):
    from patolab.protocols.services import protocol_advance

    protocol = make_received(vet_owner, technician)
    history = ProtocolStatusHistory.objects.filter(protocol=protocol)
    before = history.count()  # submission and reception
    protocol_advance(
        protocol=protocol,
        path=PATH_TO_SENT,
        user=technician,
        note_for=lambda step: f"paso {step}",
    )
    fresh = Protocol.objects.get(pk=protocol.pk)
    assert fresh.status == S.REPORT_SENT
    assert fresh.report_sent_at is not None
    steps = list(
        ProtocolStatusHistory.objects.filter(protocol=protocol, note__startswith="paso")
        .order_by("pk")
        .values_list("from_status", "to_status", "note", "changed_by")
    )
    assert steps == [
        (S.RECEIVED, S.PROCESSING, "paso processing", technician.pk),
        (S.PROCESSING, S.READY, "paso ready", technician.pk),
        (S.READY, S.REPORT_SENT, "paso report_sent", technician.pk),
    ]
    # At the end of the path already: nothing more is written.
    protocol_advance(
        protocol=protocol, path=PATH_TO_SENT, user=technician, note_for=str
    )
    assert history.count() == before + len(steps)


def test_advance_from_off_the_path_is_refused_and_changes_nothing(
    vet_owner, technician
):
    from patolab.protocols.services import protocol_advance

    protocol = make_protocol(vet_owner)
    assert protocol.status == S.SUBMITTED
    before = snapshot(protocol)
    with pytest.raises(InvalidTransition, match="Informe enviado"):
        protocol_advance(
            protocol=protocol, path=PATH_TO_SENT, user=technician, note_for=str
        )
    assert snapshot(protocol) == before
