from __future__ import annotations

import threading

import pytest

from patolab.jobs.models import Job

from ..models import WorkOrder
from ..services import workorder_create, workorder_issue
from .factories import make_protocol

pytestmark = pytest.mark.usefixtures("catalog")
CUIT = "20-12345678-6"


def payload(vet_user, protocols, **extra):
    body = {
        "veterinarian_id": vet_user.veterinarian.pk,
        "protocol_ids": [p.pk for p in protocols],
        "tax_condition": "responsable_inscripto",
        "billing_name": "Veterinaria Norte SRL",
        "cuit": CUIT,
    }
    body.update(extra)
    return body


def make_wo(vet_user, **kwargs):
    return workorder_create(
        veterinarian=vet_user.veterinarian,
        protocols=[make_protocol(vet_user)],
        tax_condition="consumidor_final",
        created_by=None,
        **kwargs,
    )


def test_pricing_lists_the_catalog(api, vet_owner):
    response = api(vet_owner).get("/api/v1/pricing")
    assert response.status_code == 200
    codes = {item["code"]: item for item in response.json()}
    assert codes["HP-01"]["unit_price"] == "62000.00"
    assert set(codes["HP-01"]) >= {"code", "description", "unit_price"}


def test_staff_creates_a_work_order(api, technician, vet_owner):
    p = make_protocol(vet_owner)
    response = api(technician).post(
        "/api/v1/workorders",
        payload(
            vet_owner,
            [p],
            lines=[
                {
                    "code": "HP-01",
                    "quantity": 1,
                    "discount_percent": 0,
                    "protocol_id": p.pk,
                },
                {"code": "ENV-01", "quantity": 2, "discount_percent": 50},
            ],
            advance_payment="10000",
        ),
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["number"].startswith("OT-")
    assert body["status"] == "draft"
    assert body["total"] == "71500.00"
    assert body["balance"] == "61500.00"
    assert [line["code"] for line in body["lines"]] == ["HP-01", "ENV-01"]
    assert body["pdf_url"] == f"/api/v1/workorders/{body['id']}/pdf"
    assert body["protocols"][0]["protocol_number"] == p.protocol_number


def test_without_lines_protocols_are_priced_from_the_catalog(
    api, technician, vet_owner
):
    p = make_protocol(vet_owner)
    response = api(technician).post("/api/v1/workorders", payload(vet_owner, [p]))
    assert response.status_code == 201
    assert response.json()["lines"][0]["code"] == "HP-01"


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ({"code": "HP-01", "quantity": -2}, "lines.0.quantity"),
        (
            {"code": "HP-01", "quantity": 1, "discount_percent": 150},
            "lines.0.discount_percent",
        ),
        ({"code": "XX-99", "quantity": 1}, "lines.0.code"),
    ],
)
def test_bad_line_gives_400_naming_the_line(api, technician, vet_owner, line, field):
    p = make_protocol(vet_owner)
    response = api(technician).post(
        "/api/v1/workorders", payload(vet_owner, [p], lines=[line])
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert field in body["errors"]
    assert body["detail"]
    assert WorkOrder.objects.count() == 0


def test_bad_cuit_gives_400(api, technician, vet_owner):
    p = make_protocol(vet_owner)
    response = api(technician).post(
        "/api/v1/workorders", payload(vet_owner, [p], cuit="20-12345678-0")
    )
    assert response.status_code == 400
    assert "cuit" in response.json()["errors"]


def test_protocol_of_another_vet_gives_409(api, technician, vet_owner, vet_other):
    response = api(technician).post(
        "/api/v1/workorders", payload(vet_owner, [make_protocol(vet_other)])
    )
    assert response.status_code == 409
    assert response.json()["code"] == "protocol_other_veterinarian"
    assert WorkOrder.objects.count() == 0


def test_protocol_already_billed_gives_409(api, technician, vet_owner):
    p = make_protocol(vet_owner)
    client = api(technician)
    assert client.post("/api/v1/workorders", payload(vet_owner, [p])).status_code == 201
    response = client.post("/api/v1/workorders", payload(vet_owner, [p]))
    assert response.status_code == 409
    assert response.json()["code"] == "protocol_already_billed"
    assert WorkOrder.objects.count() == 1


def test_veterinarian_cannot_create_work_orders(api, vet_owner):
    p = make_protocol(vet_owner)
    response = api(vet_owner).post("/api/v1/workorders", payload(vet_owner, [p]))
    assert response.status_code == 403


def test_patch_changes_lines_until_issued(api, technician, vet_owner):
    wo = make_wo(vet_owner)
    client = api(technician)
    response = client.patch(
        f"/api/v1/workorders/{wo.pk}",
        {"lines": [{"code": "IHQ-01", "quantity": 1}], "notes": "Cambiado"},
    )
    assert response.status_code == 200, response.content
    assert response.json()["total"] == "98000.00"
    assert response.json()["notes"] == "Cambiado"
    response = client.patch(
        f"/api/v1/workorders/{wo.pk}", {"lines": [{"code": "IHQ-01", "quantity": -1}]}
    )
    assert response.status_code == 400
    workorder_issue(work_order=wo)
    response = client.patch(f"/api/v1/workorders/{wo.pk}", {"notes": "tarde"})
    assert response.status_code == 409
    assert response.json()["code"] == "workorder_not_draft"
    wo.refresh_from_db()
    assert wo.notes == "Cambiado"


def test_vet_sees_only_their_own_work_orders(api, vet_owner, vet_other):
    mine = make_wo(vet_owner)
    theirs = make_wo(vet_other)
    client = api(vet_owner)
    listing = client.get("/api/v1/workorders").json()
    assert [item["id"] for item in listing["results"]] == [mine.pk]
    assert listing["count"] == 1
    assert client.get(f"/api/v1/workorders/{mine.pk}").status_code == 200
    assert client.get(f"/api/v1/workorders/{theirs.pk}").status_code == 404
    assert client.get(f"/api/v1/workorders/{theirs.pk}/pdf").status_code == 404
    assert not Job.objects.exists()


def test_staff_list_is_paginated_and_filtered(api, technician, vet_owner, vet_other):
    for _ in range(3):
        make_wo(vet_owner)
    make_wo(vet_other)
    client = api(technician)
    page = client.get("/api/v1/workorders", page_size=2).json()
    assert page["count"] == 4
    assert len(page["results"]) == 2
    assert page["next"]
    only = client.get(
        "/api/v1/workorders", veterinarian_id=vet_other.veterinarian.pk
    ).json()
    assert only["count"] == 1


def test_pdf_not_ready_gives_202_with_the_job_and_asking_again_joins_it(api, vet_owner):
    wo = make_wo(vet_owner)
    client = api(vet_owner)
    first = client.get(f"/api/v1/workorders/{wo.pk}/pdf")
    assert first.status_code == 202
    assert first["Retry-After"]
    job = first.json()["job"]
    assert job["kind"] == "workorder.pdf"
    assert first["Location"] == job["url"]
    second = client.get(f"/api/v1/workorders/{wo.pk}/pdf")
    assert second.status_code == 202
    assert second.json()["job"]["id"] == job["id"]
    assert Job.objects.filter(kind="workorder.pdf").count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_pdf_requests_start_one_job(api, vet_owner, catalog):
    from django.db import connection

    wo = make_wo(vet_owner)
    clients = [api(vet_owner) for _ in range(8)]
    barrier = threading.Barrier(len(clients))
    statuses: list[int] = []

    def hit(client):
        try:
            barrier.wait()
            statuses.append(client.get(f"/api/v1/workorders/{wo.pk}/pdf").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=hit, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [202] * len(clients)
    assert Job.objects.filter(kind="workorder.pdf").count() == 1


def test_unknown_veterinarian_gives_400_naming_the_field(api, technician, vet_owner):
    body = payload(vet_owner, [make_protocol(vet_owner)], veterinarian_id=999999)
    response = api(technician).post("/api/v1/workorders", body)
    assert response.status_code == 400
    assert "veterinarian_id" in response.json()["errors"]


def test_malformed_body_gives_400_not_500(api, technician, vet_owner):
    response = api(technician).post(
        "/api/v1/workorders", {"veterinarian_id": "x", "protocol_ids": "nope"}
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
