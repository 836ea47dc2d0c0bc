from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from patolab.core.errors import Conflict, InvalidTransition, ValidationFailed
from patolab.protocols.models import AnalysisType, Counter, ProtocolStatus

from ..models import (
    PaymentStatus,
    TaxCondition,
    WorkOrder,
    WorkOrderLine,
    WorkOrderProtocol,
    WorkOrderStatus,
)
from ..services import (
    LineInput,
    workorder_create,
    workorder_issue,
    workorder_mark_sent,
    workorder_update,
)
from .factories import make_protocol

pytestmark = pytest.mark.usefixtures("catalog")
D = Decimal
CUIT = "20-12345678-6"


def create(vet_user, protocols, **kwargs):
    values = {
        "veterinarian": vet_user.veterinarian,
        "protocols": protocols,
        "tax_condition": TaxCondition.RESPONSABLE_INSCRIPTO,
        "billing_name": "Veterinaria Norte SRL",
        "cuit": CUIT,
        "created_by": None,
    }
    values.update(kwargs)
    return workorder_create(**values)


def nothing_written():
    return (
        WorkOrder.objects.count() == 0
        and WorkOrderLine.objects.count() == 0
        and WorkOrderProtocol.objects.count() == 0
        and not Counter.objects.filter(
            key__startswith="workorder:", value__gt=0
        ).exists()
    )


def test_without_lines_each_protocol_gets_its_catalog_price(vet_owner, technician):
    hp = make_protocol(vet_owner)
    ct = make_protocol(vet_owner, analysis_type=AnalysisType.CYTOLOGY)
    wo = create(vet_owner, [hp, ct], created_by=technician)
    lines = list(wo.lines.all())
    assert [(line.code, line.protocol_id) for line in lines] == [
        ("HP-01", hp.pk),
        ("CIT-01", ct.pk),
    ]
    assert hp.protocol_number in lines[0].description
    assert wo.total == D("100500.00")
    assert wo.tax_total == D("17442.15")  # 100500 - round(100500 / 1.21)
    assert wo.status == WorkOrderStatus.DRAFT
    assert wo.payment_status == PaymentStatus.PENDING
    assert wo.cuit == CUIT
    assert wo.created_by == technician
    assert set(wo.protocol_links.values_list("protocol_id", flat=True)) == {
        hp.pk,
        ct.pk,
    }


def test_explicit_lines_with_discount_and_advance_payment(vet_owner):
    p = make_protocol(vet_owner)
    wo = create(
        vet_owner,
        [p],
        lines=[
            LineInput(
                code="HP-01", quantity=1, discount_percent="10", protocol_id=p.pk
            ),
            LineInput(code="HP-ADIC", quantity=2, discount_percent=0),
            LineInput(code="ENV-01", quantity=1, discount_percent="12.5"),
        ],
        advance_payment="30000",
    )
    # 62000 - 6200 + 49000 + 9500 - 1187.50
    assert wo.subtotal == D("120500.00")
    assert wo.discount_total == D("7387.50")
    assert wo.total == D("113112.50")
    assert wo.advance_payment == D("30000.00")
    assert wo.payment_status == PaymentStatus.PARTIAL
    assert [line.amount for line in wo.lines.all()] == [
        D("55800.00"),
        D("49000.00"),
        D("8312.50"),
    ]


def test_numbers_are_consecutive_per_year(vet_owner):
    year = timezone.localdate().year
    first = create(vet_owner, [make_protocol(vet_owner)])
    second = create(vet_owner, [make_protocol(vet_owner)])
    assert first.number == f"OT-{year}-0001"
    assert second.number == f"OT-{year}-0002"


def test_a_failed_creation_does_not_consume_a_number(vet_owner, vet_other):
    year = timezone.localdate().year
    with pytest.raises(Conflict):
        create(vet_owner, [make_protocol(vet_other)])
    wo = create(vet_owner, [make_protocol(vet_owner)])
    assert wo.number == f"OT-{year}-0001"


@pytest.mark.parametrize(
    ("line", "field"),
    [
        (LineInput(code="HP-01", quantity=-1), "lines.0.quantity"),
        (LineInput(code="HP-01", quantity=0), "lines.0.quantity"),
        (LineInput(code="HP-01", quantity="dos"), "lines.0.quantity"),
        (
            LineInput(code="HP-01", discount_percent="100.01"),
            "lines.0.discount_percent",
        ),
        (LineInput(code="HP-01", discount_percent=-5), "lines.0.discount_percent"),
        (LineInput(code="HP-01", discount_percent="abc"), "lines.0.discount_percent"),
        (LineInput(code="NO-EXISTE"), "lines.0.code"),
    ],
)
def test_bad_line_is_a_400_naming_the_line_and_changes_nothing(vet_owner, line, field):
    p = make_protocol(vet_owner)
    with pytest.raises(ValidationFailed) as exc:
        create(vet_owner, [p], lines=[line])
    assert field in exc.value.errors
    assert "Línea 1" in exc.value.errors[field][0]
    assert exc.value.status_code == 400
    assert nothing_written()


def test_expired_catalog_code_is_unknown(vet_owner, catalog):
    catalog["IHQ-01"].valid_to = timezone.localdate().replace(year=2020)
    catalog["IHQ-01"].save()
    with pytest.raises(ValidationFailed) as exc:
        create(vet_owner, [make_protocol(vet_owner)], lines=[LineInput(code="IHQ-01")])
    assert "lines.0.code" in exc.value.errors


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"cuit": "20-12345678-5"}, "cuit"),
        ({"cuit": ""}, "cuit"),  # required for responsable inscripto
        ({"tax_condition": "autonomo"}, "tax_condition"),
        ({"advance_payment": "-1"}, "advance_payment"),
        ({"advance_payment": "999999"}, "advance_payment"),  # more than the total
        ({"protocols": []}, "protocol_ids"),
        ({"protocols": [987654]}, "protocol_ids"),
    ],
)
def test_bad_header_field_is_a_400_naming_it(vet_owner, kwargs, field):
    values = {"protocols": [make_protocol(vet_owner)], **kwargs}
    protocols = values.pop("protocols")
    with pytest.raises(ValidationFailed) as exc:
        create(vet_owner, protocols, **values)
    assert field in exc.value.errors
    assert nothing_written()


def test_consumidor_final_needs_no_cuit(vet_owner):
    wo = create(
        vet_owner,
        [make_protocol(vet_owner)],
        cuit="",
        tax_condition=TaxCondition.CONSUMIDOR_FINAL,
    )
    assert wo.cuit == ""


def test_protocol_of_another_vet_is_a_409(vet_owner, vet_other):
    with pytest.raises(Conflict) as exc:
        create(vet_owner, [make_protocol(vet_owner), make_protocol(vet_other)])
    assert exc.value.code == "protocol_other_veterinarian"
    assert exc.value.status_code == 409
    assert nothing_written()


@pytest.mark.parametrize(
    "status",
    [ProtocolStatus.SUBMITTED, ProtocolStatus.REJECTED, ProtocolStatus.CANCELLED],
)
def test_protocol_not_received_is_a_409(vet_owner, status):
    with pytest.raises(Conflict) as exc:
        create(vet_owner, [make_protocol(vet_owner, status=status)])
    assert exc.value.code == "protocol_not_received"
    assert nothing_written()


def test_protocol_already_billed_is_a_409_and_changes_nothing(vet_owner):
    p = make_protocol(vet_owner)
    first = create(vet_owner, [p])
    with pytest.raises(Conflict) as exc:
        create(vet_owner, [make_protocol(vet_owner), p])
    assert exc.value.code == "protocol_already_billed"
    assert first.number in exc.value.message
    assert WorkOrder.objects.count() == 1


def test_update_replaces_lines_and_recomputes_totals(vet_owner):
    p = make_protocol(vet_owner)
    wo = create(vet_owner, [p])
    wo = workorder_update(
        work_order=wo,
        lines=[
            LineInput(code="HP-01", protocol_id=p.pk),
            LineInput(code="IHQ-01", quantity=2, discount_percent=50),
        ],
        notes="Con IHQ",
    )
    assert wo.total == D("160000.00")
    assert wo.notes == "Con IHQ"
    assert wo.lines.count() == 2


def test_bad_update_changes_nothing(vet_owner):
    wo = create(vet_owner, [make_protocol(vet_owner)], notes="antes")
    with pytest.raises(ValidationFailed):
        workorder_update(
            work_order=wo, lines=[LineInput(code="HP-01", quantity=-3)], notes="después"
        )
    wo.refresh_from_db()
    assert wo.notes == "antes"
    assert wo.total == D("62000.00")
    assert wo.lines.get().quantity == 1


def test_edit_after_issue_is_a_409(vet_owner):
    wo = create(vet_owner, [make_protocol(vet_owner)])
    wo = workorder_issue(work_order=wo)
    assert wo.status == WorkOrderStatus.ISSUED
    assert wo.issued_at is not None
    with pytest.raises(InvalidTransition):
        workorder_update(work_order=wo, notes="tarde")
    with pytest.raises(InvalidTransition):
        workorder_issue(work_order=wo)
    wo.refresh_from_db()
    assert wo.notes == ""


def test_sent_only_after_issued(vet_owner):
    wo = create(vet_owner, [make_protocol(vet_owner)])
    with pytest.raises(InvalidTransition):
        workorder_mark_sent(work_order=wo)
    workorder_issue(work_order=wo)
    wo = workorder_mark_sent(work_order=wo)
    assert wo.status == WorkOrderStatus.SENT
