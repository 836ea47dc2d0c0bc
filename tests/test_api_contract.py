"""Every endpoint of ../shared/API.md that the product implements so far exists
with its method (the contract: extend, never break)."""

from __future__ import annotations

import re

import pytest

from config.api import api

CONTRACT = [
    ("POST", "/api/v1/auth/token"),
    ("GET", "/api/v1/jobs/{id}"),
    ("GET", "/api/v1/jobs"),
    ("POST", "/api/v1/jobs/{id}/retry"),
    ("POST", "/api/v1/protocols"),
    ("GET", "/api/v1/protocols"),
    ("GET", "/api/v1/protocols/{id}"),
    ("GET", "/api/v1/protocols/lookup"),
    ("POST", "/api/v1/protocols/{id}/receive"),
    ("POST", "/api/v1/protocols/{id}/reject"),
    ("POST", "/api/v1/protocols/{id}/status"),
    ("GET", "/api/v1/protocols/{id}/history"),
    ("GET", "/api/v1/protocols/{id}/label.pdf"),
    ("POST", "/api/v1/labels"),
    ("POST", "/api/v1/protocols/bulk-status"),
    ("POST", "/api/v1/reports"),
    ("PATCH", "/api/v1/reports/{id}"),
    ("GET", "/api/v1/reports/{id}"),
    ("POST", "/api/v1/reports/{id}/finalize"),
    ("GET", "/api/v1/reports/{id}/pdf"),
    ("POST", "/api/v1/reports/regenerate"),
    ("GET", "/api/v1/verify/{uuid}"),
    ("GET", "/api/v1/pricing"),
    ("POST", "/api/v1/workorders"),
    ("PATCH", "/api/v1/workorders/{id}"),
    ("GET", "/api/v1/workorders/{id}/pdf"),
    ("POST", "/api/v1/notifications/bulk"),
    ("GET", "/api/v1/emails"),
    ("GET", "/api/v1/stats/daily"),
    ("POST", "/api/v1/exports"),
]


def normalized(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


@pytest.fixture(scope="module")
def routes() -> dict[str, set[str]]:
    schema = api.get_openapi_schema()
    return {
        normalized(p): {m.upper() for m in ops} for p, ops in schema["paths"].items()
    }


@pytest.mark.parametrize(("method", "path"), CONTRACT)
def test_contract_endpoint_exists(routes, method, path):
    assert method in routes.get(normalized(path), set()), f"{method} {path} missing"
