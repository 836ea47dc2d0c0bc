"""The OpenAPI document lists the request fields the API requires (issue 11),
and it is truthful: leaving out a field it lists gets a 400 naming that field."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client


@pytest.fixture(scope="module")
def document() -> dict:
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json()


def request_schema(document: dict, method: str, path: str) -> dict:
    body = document["paths"][path][method]["requestBody"]["content"]
    ref = body["application/json"]["schema"]["$ref"]
    return document["components"]["schemas"][ref.rsplit("/", 1)[-1]]


@pytest.mark.parametrize(
    ("method", "path", "required"),
    [
        ("post", "/api/v1/protocols", {"analysis_type"}),
        ("post", "/api/v1/reports", {"protocol_id"}),
        (
            "post",
            "/api/v1/workorders",
            {"veterinarian_id", "protocol_ids", "tax_condition"},
        ),
        ("post", "/api/v1/exports", {"format"}),
        ("post", "/api/v1/protocols/receive-batch", {"items"}),
        ("post", "/api/v1/protocols/bulk-status", {"protocol_ids", "status"}),
        (
            "post",
            "/api/v1/protocols/{protocol_id}/receive",
            {"sample_condition", "containers"},
        ),
        ("post", "/api/v1/protocols/{protocol_id}/reject", {"reason"}),
        ("post", "/api/v1/protocols/{protocol_id}/status", {"status"}),
        ("post", "/api/v1/workorders/{workorder_id}/payment", {"amount", "paid_on"}),
        ("post", "/api/v1/labels", {"protocol_ids"}),
        ("post", "/api/v1/notifications/bulk", {"protocol_ids", "email_type"}),
        # PATCH: only what is sent changes, so nothing is required.
        ("patch", "/api/v1/protocols/{protocol_id}", set()),
    ],
)
def test_required_request_fields(document, method, path, required):
    schema = request_schema(document, method, path)
    assert set(schema.get("required", [])) == required
    assert required <= set(schema["properties"])


def test_a_submission_requires_more_than_a_draft(document):
    schema = request_schema(document, "post", "/api/v1/protocols")
    (submission,) = schema["allOf"]
    assert submission["if"] == {"properties": {"draft": {"const": False}}}
    assert set(submission["then"]["required"]) == {
        "species",
        "animal_name",
        "sampling_date",
    }
    by_type = {
        rule["if"]["properties"]["analysis_type"]["const"]: rule["then"]["required"]
        for rule in submission["then"]["allOf"]
    }
    assert by_type == {
        "histopathology": ["material_submitted"],
        "cytology": ["technique"],
    }


COMPLETE = {
    "analysis_type": "histopathology",
    "species": "Canino",
    "animal_name": "Luna",
    "sampling_date": str(datetime.date.today()),
    "material_submitted": "Nódulo cutáneo",
}


@pytest.mark.parametrize("missing", sorted(COMPLETE))
def test_a_field_the_document_requires_is_required(db, api, vet_owner, missing):
    body = {k: v for k, v in COMPLETE.items() if k != missing}
    response = api(vet_owner).post("/api/v1/protocols", body)
    assert response.status_code == 400, response.content
    assert missing in response.json()["errors"]


def test_the_complete_submission_and_a_bare_draft_are_accepted(db, api, vet_owner):
    client = api(vet_owner)
    response = client.post("/api/v1/protocols", COMPLETE)
    assert response.status_code == 201, response.content
    draft = {"analysis_type": "cytology", "draft": True}
    assert client.post("/api/v1/protocols", draft).status_code == 201
