"""Audit trail (issue 12, section 3): changes made through the real entry
points (API, web, admin) leave entries with the acting user, where the change
came from and the old and new values; the trail is staff-only and read-only."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from patolab.audit.models import AuditEntry, Via
from patolab.protocols.models import Reception
from patolab.protocols.tests.factories import make_protocol, make_received
from patolab.reports.services import report_create
from patolab.workorders.models import PricingItem, WorkOrderLine
from patolab.workorders.services import workorder_create
from patolab.workorders.tests.factories import make_catalog
from patolab.workorders.tests.factories import make_protocol as make_billable

pytestmark = pytest.mark.django_db


def entries_for(obj) -> list[AuditEntry]:
    return list(
        AuditEntry.objects.filter(
            content_type__app_label=obj._meta.app_label,
            content_type__model=obj._meta.model_name,
            object_pk=str(obj.pk),
        ).order_by("timestamp", "pk")
    )


def test_a_reception_records_who_received_from_where_and_the_new_number(
    api, vet_owner, technician
):
    protocol = make_protocol(vet_owner)
    response = api(technician).post(
        f"/api/v1/protocols/{protocol.pk}/receive",
        {"sample_condition": "optimal", "containers": protocol.declared_count},
    )
    assert response.status_code == 200, response.content
    number = response.json()["protocol_number"]

    [update] = [
        e
        for e in entries_for(protocol)
        if e.action == AuditEntry.Action.UPDATE and "protocol_number" in e.changes
    ]
    assert update.actor == technician
    assert update.via == Via.API
    assert update.remote_addr == "127.0.0.1"
    assert update.changes["protocol_number"] == [None, number]
    assert update.protocol_id == protocol.pk

    reception = Reception.objects.get(protocol=protocol)
    [created] = entries_for(reception)
    assert created.action == AuditEntry.Action.CREATE
    assert created.actor == technician
    assert created.changes["sample_condition"][1] == "optimal"
    assert created.protocol_id == protocol.pk


def test_a_draft_edit_records_the_old_and_new_text(
    api, vet_owner, technician, pathologist
):
    protocol = make_received(vet_owner, technician)
    report = report_create(
        protocol=protocol, histopathologist=pathologist, diagnosis="Dermatitis"
    )
    response = api(pathologist).patch(
        f"/api/v1/reports/{report.pk}", {"diagnosis": "Mastocitoma grado II"}
    )
    assert response.status_code == 200, response.content
    [edit] = [e for e in entries_for(report) if e.action == AuditEntry.Action.UPDATE]
    assert edit.actor == pathologist
    assert edit.via == Via.API
    assert edit.changes == {"diagnosis": ["Dermatitis", "Mastocitoma grado II"]}
    assert edit.protocol_id == protocol.pk


def test_a_work_order_line_change_records_the_removed_and_added_lines(
    api, vet_owner, technician
):
    make_catalog()
    protocol = make_billable(vet_owner)
    wo = workorder_create(
        veterinarian=vet_owner.veterinarian,
        protocols=[protocol],
        tax_condition="consumidor_final",
        created_by=technician,
    )
    [old_line] = list(wo.lines.all())
    assert entries_for(old_line)[0].action == AuditEntry.Action.CREATE

    response = api(technician).patch(
        f"/api/v1/workorders/{wo.pk}",
        {"lines": [{"code": "IHQ-01", "quantity": 2, "protocol_id": protocol.pk}]},
    )
    assert response.status_code == 200, response.content
    [removed] = [
        e for e in entries_for(old_line) if e.action == AuditEntry.Action.DELETE
    ]
    assert removed.actor == technician
    assert removed.via == Via.API
    assert removed.changes["code"] == [old_line.code, None]
    [new_line] = list(WorkOrderLine.objects.filter(work_order=wo))
    [added] = entries_for(new_line)
    assert added.action == AuditEntry.Action.CREATE
    assert added.actor == technician
    assert added.changes["code"] == [None, "IHQ-01"]
    assert added.changes["quantity"] == [None, 2]
    assert added.protocol_id == protocol.pk


def test_a_price_change_in_the_admin_records_old_and_new_price(admin, login):
    make_catalog()
    item = PricingItem.objects.get(code="HP-01")
    client = login(admin)
    url = reverse("admin:workorders_pricingitem_change", args=[item.pk])
    form = {
        "code": item.code,
        "description": item.description,
        "analysis_type": item.analysis_type,
        "unit_price": "70000.00",
        "valid_from": "2020-01-01",
        "valid_to": "",
        "active": "on",
    }
    response = client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    item.refresh_from_db()
    assert item.unit_price == Decimal("70000.00")
    [change] = [e for e in entries_for(item) if e.action == AuditEntry.Action.UPDATE]
    assert change.actor == admin
    assert change.via == Via.ADMIN
    old, new = change.changes["unit_price"]
    assert Decimal(old) == Decimal("62000.00")
    assert Decimal(new) == Decimal("70000.00")


def test_a_role_change_is_recorded_and_a_password_change_is_not(admin, vet_other):
    from patolab.audit.context import audit_context

    with audit_context(via=Via.ADMIN, actor_loader=lambda: admin):
        vet_other.role = "lab_staff"
        vet_other.save()
        vet_other.set_password("otra-clave-segura-123")
        vet_other.save()
    [change] = [
        e for e in entries_for(vet_other) if e.action == AuditEntry.Action.UPDATE
    ]
    assert change.changes == {"role": ["veterinarian", "lab_staff"]}
    assert change.actor == admin
    assert change.via == Via.ADMIN
    assert "password" not in str(AuditEntry.objects.values_list("changes", flat=True))


def test_the_audit_endpoint_is_staff_only_and_404_for_veterinarians(
    api, vet_owner, technician, pathologist, admin
):
    protocol = make_received(vet_owner, technician)
    url = f"/api/v1/protocols/{protocol.pk}/audit"
    # Their own protocol too: the trail is internal.
    assert api(vet_owner).get(url).status_code == 404
    for user in (technician, pathologist, admin):
        response = api(user).get(url)
        assert response.status_code == 200
    trail = api(technician).get(url).json()
    assert [item["at"] for item in trail] == sorted(item["at"] for item in trail)
    statuses = [
        item["changes"]["status"] for item in trail if item["action"] == "status"
    ]
    assert [None, "submitted"] in statuses or ["draft", "submitted"] in statuses
    assert statuses[-1][1] == "received"
    assert {"at", "user", "via", "object", "changes"} <= set(trail[0])


def test_staff_see_the_history_of_changes_on_the_protocol_page(
    login, vet_owner, technician
):
    protocol = make_received(vet_owner, technician)
    url = reverse("protocols:protocol-detail", args=[protocol.pk])
    page = login(technician).get(url).content.decode()
    assert "Historial de cambios" in page
    assert protocol.protocol_number in page
    vet_page = login(vet_owner).get(url).content.decode()
    assert "Historial de cambios" not in vet_page


def test_nothing_in_the_admin_edits_or_deletes_an_entry(admin, login, vet_owner):
    make_protocol(vet_owner)
    entry = AuditEntry.objects.first()
    assert entry is not None
    client = login(admin)
    changelist = reverse("admin:audit_auditentry_changelist")
    page = client.get(changelist)
    assert page.status_code == 200
    assert b"delete_selected" not in page.content
    assert (
        client.get(
            reverse("admin:audit_auditentry_delete", args=[entry.pk])
        ).status_code
        == 403
    )
    assert (
        client.post(
            reverse("admin:audit_auditentry_delete", args=[entry.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    response = client.post(
        changelist,
        {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"},
    )
    assert response.status_code in (200, 302)
    change = reverse("admin:audit_auditentry_change", args=[entry.pk])
    assert client.post(change, {"object_repr": "x"}).status_code == 403
    assert AuditEntry.objects.filter(
        pk=entry.pk, object_repr=entry.object_repr
    ).exists()
    # A superuser cannot either.
    admin.is_superuser = True
    admin.save()
    assert (
        client.post(
            reverse("admin:audit_auditentry_delete", args=[entry.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_changes_made_by_a_background_job_are_attributed_to_the_job_and_requester(
    celery_worker, api, vet_owner, technician, pathologist, wait
):
    from patolab.jobs.models import Job, JobState
    from patolab.protocols.models import ProtocolStatusHistory

    protocol = make_received(vet_owner, technician)
    report = report_create(
        protocol=protocol, histopathologist=pathologist, diagnosis="Dx"
    )
    response = api(pathologist).post(f"/api/v1/reports/{report.pk}/finalize")
    assert response.status_code == 202
    job = wait(
        lambda: Job.objects.filter(
            pk=response.json()["id"], state__in=[JobState.SUCCEEDED, JobState.FAILED]
        ).first(),
        timeout=30,
    )
    assert job.state == JobState.SUCCEEDED, job.error
    sent = ProtocolStatusHistory.objects.get(protocol=protocol, to_status="report_sent")
    [entry] = entries_for(sent)
    assert entry.via == Via.JOB
    assert entry.actor == pathologist
    trail = api(technician).get(f"/api/v1/protocols/{protocol.pk}/audit").json()
    assert {
        "via": "job",
        "changes": {"status": ["ready", "report_sent"]},
    }.items() <= next(
        item
        for item in trail
        if item["changes"].get("status", [None])[-1] == "report_sent"
    ).items()
