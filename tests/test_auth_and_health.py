"""API authentication, job visibility and the health endpoint."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

from django.db import transaction
from django.test import Client

from conftest import ROOT, subprocess_env
from patolab.jobs.services import job_start


def test_token_endpoint_returns_a_token_that_authenticates(api, vet_owner):
    client = api(vet_owner)
    assert client.get("/api/v1/jobs").status_code == 200


def test_wrong_password_gets_401_in_the_error_format(db, vet_owner):
    response = Client().post(
        "/api/v1/auth/token",
        {"username": "vet_owner", "password": "nope"},
        content_type="application/json",
    )
    assert response.status_code == 401
    body = response.json()
    assert body["code"] == "invalid_credentials"
    assert body["detail"] == "Usuario o contraseña incorrectos."


def test_missing_token_field_is_a_400_naming_it(db):
    response = Client().post(
        "/api/v1/auth/token", {"username": "x"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"password": ["Este campo es obligatorio."]}


def test_no_token_gets_401(db):
    response = Client().get("/api/v1/jobs")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_bad_token_gets_401(db):
    response = Client().get(
        "/api/v1/jobs", headers={"Authorization": "Bearer not-a-token"}
    )
    assert response.status_code == 401


def test_vet_cannot_read_another_users_job(api, vet_owner, vet_other):
    with transaction.atomic():
        job = job_start(kind="system.selftest", user=vet_owner)
    assert api(vet_owner).get(f"/api/v1/jobs/{job.pk}").status_code == 200
    response = api(vet_other).get(f"/api/v1/jobs/{job.pk}")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert api(vet_other).get("/api/v1/jobs").json()["count"] == 0


def test_admin_sees_all_jobs_and_only_admin_may_retry(api, vet_owner, admin):
    with transaction.atomic():
        job = job_start(kind="system.selftest", user=vet_owner)
    listing = api(admin).get("/api/v1/jobs", state="queued").json()
    assert [item["id"] for item in listing["results"]] == [str(job.pk)]
    assert api(vet_owner).post(f"/api/v1/jobs/{job.pk}/retry").status_code == 403
    assert api(admin).post(f"/api/v1/jobs/{job.pk}/retry").status_code == 409


def test_job_list_is_paginated(api, admin):
    with transaction.atomic():
        for _ in range(3):
            job_start(kind="system.selftest", user=admin)
    page = api(admin).get("/api/v1/jobs", page_size=2).json()
    assert page["count"] == 3
    assert len(page["results"]) == 2
    assert page["previous"] is None
    assert "page=2" in page["next"]


def test_openapi_document_is_served(db):
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert "/api/v1/jobs/{job_id}" in response.json()["paths"]


def test_up_returns_503_naming_the_broker_when_it_is_down(transactional_db):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    # A fresh process, so the broker URL is read at start-up like in production.
    script = (
        "import django, json; django.setup();"
        "from django.test import Client;"
        "r = Client().get('/up');"
        "print(json.dumps({'status': r.status_code, 'body': r.json()}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=subprocess_env(
            CELERY_BROKER_URL=f"redis://127.0.0.1:{closed_port}/0",
            DJANGO_SETTINGS_MODULE="config.settings",
        ),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["status"] == 503
    assert outcome["body"]["database"] == "ok"
    assert outcome["body"]["broker"].startswith("error")
    assert "broker" in outcome["body"]["failing"]


def test_up_counts_a_live_worker(celery_worker, wait):
    def healthy():
        response = Client().get("/up")
        return response.status_code == 200 and response.json()

    body = wait(healthy, timeout=20, interval=0.5)
    assert body["database"] == "ok"
    assert body["broker"] == "ok"
    assert body["workers"] >= 1
