"""GET /api/v1/protocols/{id}/label.pdf and POST /api/v1/labels (API.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from patolab.accounts.models import User
from patolab.core.documents import document_build
from patolab.jobs.models import Job
from patolab.labels.jobs import LABEL_DOCUMENT

from .factories import make_protocol
from .pdfcheck import pdf_pages

pytestmark = pytest.mark.django_db
Api = Callable[[User | None], Any]


def label_path(pk: int) -> str:
    return f"/api/v1/protocols/{pk}/label.pdf"


def test_vet_gets_403(api: Api, vet_owner: User, technician: User) -> None:
    protocol = make_protocol(vet=vet_owner, received_by=technician)
    response = api(vet_owner).get(label_path(protocol.pk))
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden_role"
    response = api(vet_owner).post("/api/v1/labels", {"protocol_ids": [protocol.pk]})
    assert response.status_code == 403
    assert not Job.objects.exists()


def test_anonymous_gets_401(api: Api) -> None:
    assert api(None).get(label_path(1)).status_code == 401


def test_unknown_protocol_is_404(api: Api, technician: User) -> None:
    response = api(technician).get(label_path(999999))
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_protocol_not_received_is_409_in_spanish(
    api: Api, vet_owner: User, technician: User
) -> None:
    protocol = make_protocol(vet=vet_owner)
    response = api(technician).get(label_path(protocol.pk))
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "protocol_not_received"
    assert "todavía no fue recibido" in body["detail"]
    assert not Job.objects.exists()


def test_missing_labels_answer_202_with_the_same_job_when_asked_again(
    api: Api, vet_owner: User, technician: User
) -> None:
    protocol = make_protocol(vet=vet_owner, received_by=technician)
    client = api(technician)
    first = client.get(label_path(protocol.pk))
    second = client.get(label_path(protocol.pk))
    assert first.status_code == 202
    assert first["Retry-After"] == "1"
    assert first["Location"] == first.json()["job"]["url"]
    assert first.json()["job"]["kind"] == "labels.generate"
    assert second.status_code == 202
    assert second.json()["job"]["id"] == first.json()["job"]["id"]
    assert Job.objects.count() == 1


def test_current_labels_answer_200_pdf_with_etag_and_304_on_match(
    api: Api, vet_owner: User, technician: User
) -> None:
    protocol = make_protocol(vet=vet_owner, received_by=technician, containers=3)
    doc = document_build(LABEL_DOCUMENT, protocol)
    client = api(technician)
    response = client.get(label_path(protocol.pk))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["ETag"] == f'"{doc.sha256}"'
    assert "etiquetas-hp-26-" in response["Content-Disposition"]
    assert len(pdf_pages(b"".join(response.streaming_content))) == 3
    client.headers["If-None-Match"] = f'"{doc.sha256}"'
    cached = client.get(label_path(protocol.pk))
    assert cached.status_code == 304
    assert not Job.objects.exists()


def test_batch_starts_a_job(api: Api, vet_owner: User, technician: User) -> None:
    protocol = make_protocol(vet=vet_owner, received_by=technician)
    response = api(technician).post("/api/v1/labels", {"protocol_ids": [protocol.pk]})
    assert response.status_code == 202
    body = response.json()
    assert body["kind"] == "labels.batch"
    assert body["progress"] == {"current": 0, "total": 1}
    assert response["Location"] == body["url"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "protocol_ids"),
        ({"protocol_ids": []}, "protocol_ids"),
        ({"protocol_ids": ["abc"]}, "protocol_ids.0"),
    ],
)
def test_batch_with_bad_input_is_400(
    api: Api, technician: User, payload: dict[str, Any], field: str
) -> None:
    response = api(technician).post("/api/v1/labels", payload)
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not Job.objects.exists()
