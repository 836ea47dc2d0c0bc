"""Role checks come before body validation (issue 11): a caller whose role can
never use an endpoint gets 403, not a 400 about the body it sent."""

from __future__ import annotations

import re

import pytest

from config.api import api as ninja_api

# Endpoints with a request body that some roles may never use, and one such role.
ROLE_LIMITED = [
    ("post", "/api/v1/protocols/receive-batch", "vet_owner"),
    ("post", "/api/v1/protocols/bulk-status", "vet_owner"),
    ("post", "/api/v1/protocols/bulk-status", "technician"),
    ("post", "/api/v1/protocols/{protocol_id}/receive", "vet_owner"),
    ("post", "/api/v1/protocols/{protocol_id}/reject", "vet_owner"),
    ("post", "/api/v1/protocols/{protocol_id}/status", "vet_owner"),
    ("post", "/api/v1/protocols/{protocol_id}/status", "pathologist"),
    ("post", "/api/v1/labels", "vet_owner"),
    ("post", "/api/v1/reports", "vet_owner"),
    ("post", "/api/v1/reports", "technician"),
    ("post", "/api/v1/reports/regenerate", "vet_owner"),
    ("post", "/api/v1/reports/regenerate", "pathologist"),
    ("patch", "/api/v1/reports/{report_id}", "vet_owner"),
    ("post", "/api/v1/notifications/bulk", "vet_owner"),
    ("post", "/api/v1/notifications/bulk", "technician"),
    ("post", "/api/v1/workorders", "vet_owner"),
    ("post", "/api/v1/workorders", "pathologist"),
    ("patch", "/api/v1/workorders/{workorder_id}", "vet_owner"),
    ("post", "/api/v1/workorders/{workorder_id}/payment", "vet_owner"),
    ("post", "/api/v1/exports", "vet_owner"),
    ("post", "/api/v1/exports", "technician"),
]
# Bodies a veterinarian may send (own protocols) or anonymous endpoints.
OPEN_TO_VETS = {
    ("post", "/api/v1/auth/token"),
    ("post", "/api/v1/protocols"),
    ("patch", "/api/v1/protocols/{protocol_id}"),
    ("post", "/api/v1/protocols/{protocol_id}/cancel"),
    ("post", "/api/v1/verify/{verification_id}"),
}
INVALID_BODIES = [{}, "not json at all", {"protocol_ids": "x", "items": 7}]


def test_every_endpoint_with_a_body_is_classified():
    with_body = {
        (method, path)
        for path, ops in ninja_api.get_openapi_schema()["paths"].items()
        for method, op in ops.items()
        if "requestBody" in op
    }
    limited = {(m, p) for m, p, _ in ROLE_LIMITED}
    assert with_body == limited | OPEN_TO_VETS


@pytest.mark.parametrize(("method", "path", "persona"), ROLE_LIMITED)
def test_wrong_role_with_an_invalid_body_gets_403(
    db, api, request, method, path, persona
):
    client = api(request.getfixturevalue(persona))
    url = re.sub(r"\{[^}]+\}", "999999", path)
    for body in INVALID_BODIES:
        response = getattr(client, method)(url, body)
        assert response.status_code == 403, (body, response.content)
        assert response.json()["code"] == "forbidden_role"
