"""Hostile input answers 400/413/404/405 in the API's JSON format (DEBUG on or
off), never a 500 or a debug page; web pages answer with Spanish error pages."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

API_LISTS_WITH_TEXT = [
    ("/api/v1/protocols", "q"),
    ("/api/v1/reports", "q"),
    ("/api/v1/workorders", "q"),
    ("/api/v1/jobs", "state"),
    ("/api/v1/jobs", "kind"),
    ("/api/v1/emails", "kind"),
    ("/api/v1/protocols/lookup", "code"),
]
PAGINATED = [
    "/api/v1/protocols",
    "/api/v1/reports",
    "/api/v1/workorders",
    "/api/v1/jobs",
    "/api/v1/emails",
]
WEB_LISTS = ["/protocolos/", "/informes/lista/", "/ordenes/", "/trabajos/"]


def assert_api_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) >= {"detail", "code", "errors"}
    assert body["detail"]
    if code:
        assert body["code"] == code
    text = json.dumps(body)
    assert "Traceback" not in text
    assert "DATABASE_URL" not in text
    return body


# ---------------------------------------------------------------- defaults
def settings_in_fresh_process(var_dir: Path, **env: str) -> dict:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "SECRET_KEY", "SECRET_KEY_FILE"}
    }
    clean.update(PATOLAB_VAR_DIR=str(var_dir), DJANGO_SETTINGS_MODULE="config.settings")
    clean.update(env)
    code = (
        "import json, django; django.setup();"
        "from django.conf import settings as s;"
        "print(json.dumps({'debug': s.DEBUG, 'key': s.SECRET_KEY}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_defaults_are_debug_off_and_a_generated_private_secret_key(tmp_path):
    first = settings_in_fresh_process(tmp_path)
    second = settings_in_fresh_process(tmp_path)
    assert first["debug"] is False
    key_file = tmp_path / "secret_key"
    assert key_file.read_text().strip() == first["key"] == second["key"]
    assert len(first["key"]) >= 50
    assert "insecure" not in first["key"]
    assert key_file.stat().st_mode & 0o777 == 0o600
    # Another machine's var folder gets another key: nothing public to forge with.
    assert settings_in_fresh_process(tmp_path / "other")["key"] != first["key"]


def test_debug_only_when_set_explicitly(tmp_path):
    assert settings_in_fresh_process(tmp_path, DEBUG="true")["debug"] is True
    assert settings_in_fresh_process(tmp_path, DEBUG="")["debug"] is False


def test_check_deploy_passes_for_the_documented_production_configuration(tmp_path):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "FAST_PASSWORD_HASHER"}
    }
    env.update(
        PATOLAB_VAR_DIR=str(tmp_path),
        SECRET_KEY="x" * 10 + "production-secret-key-with-enough-entropy-0123456789",
        ALLOWED_HOSTS="patolab.example.com",
        SITE_URL="https://patolab.example.com",
        SECURE_SSL_REDIRECT="true",
        SECURE_HSTS_SECONDS="31536000",
        SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_nul_in_web_list_shows_a_spanish_400_page_not_a_debug_page(
    login, vet_owner, settings
):
    client = login(vet_owner)
    for debug in (False, True):
        settings.DEBUG = debug
        for path in WEB_LISTS:
            response = client.get(path, {"q": "a\x00b"})
            assert response.status_code == 400, path
            text = response.content.decode()
            assert "no permitidos" in text
            assert "DATABASE_URL" not in text
            assert "Traceback" not in text


def test_web_404_is_a_spanish_page(login, vet_owner):
    response = login(vet_owner).get("/no-existe/")
    assert response.status_code == 404
    assert "La página no existe" in response.content.decode()


# ---------------------------------------------------------------- API: 400
@pytest.mark.parametrize(("path", "param"), API_LISTS_WITH_TEXT)
def test_nul_byte_in_api_filter_is_400_json(api, admin, path, param):
    response = api(admin).get(path, **{param: "x\x00y"})
    assert_api_error(response, 400, "invalid_characters")


@pytest.mark.parametrize("path", PAGINATED)
def test_huge_page_number_is_400_json(api, admin, path):
    client = api(admin)
    body = assert_api_error(client.get(path, page="1000000000000000000"), 400)
    assert "page" in body["errors"]
    assert_api_error(client.get(path, page="0"), 400)
    assert client.get(path, page="1").status_code == 200


def test_nul_in_token_username_is_400(api):
    response = api().post(
        "/api/v1/auth/token", {"username": "ad\x00min", "password": "x"}
    )
    assert_api_error(response, 400, "invalid_characters")


def test_nul_in_json_body_field_is_400(api, vet_owner):
    response = api(vet_owner).post(
        "/api/v1/protocols",
        {
            "analysis_type": "cytology",
            "species": "Canino",
            "animal_name": "Firu\x00lais",
            "sampling_date": "2026-11-30",
        },
    )
    assert response.status_code == 400, response.content


# ---------------------------------------------------------------- API: 404/405/500
@pytest.mark.parametrize("debug", [False, True])
def test_unknown_api_path_and_wrong_method_are_json(api, admin, settings, debug):
    settings.DEBUG = debug
    client = api(admin)
    assert_api_error(client.get("/api/v1/no-such-thing"), 404, "not_found")
    response = client.client.delete("/api/v1/pricing", headers=client.headers)
    body = assert_api_error(response, 405, "method_not_allowed")
    assert body["detail"] == "Método no permitido."
    assert "GET" in response["Allow"]


@pytest.mark.parametrize("debug", [False, True])
def test_a_bug_is_a_json_500_without_internals(
    api, admin, settings, monkeypatch, debug
):
    settings.DEBUG = debug
    from patolab.workorders import api as workorders_api

    def explode(*args, **kwargs):
        raise RuntimeError("secret internals: postgres://user:pw@db/x")

    monkeypatch.setattr(workorders_api, "pricing_valid_on", explode)
    client = api(admin)
    client.client.raise_request_exception = False
    response = client.get("/api/v1/pricing")
    body = assert_api_error(response, 500, "server_error")
    assert "secret" not in json.dumps(body)


# ---------------------------------------------------------------- 413
def test_oversized_api_body_is_413_json(api, vet_owner, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100_000
    payload = {"analysis_type": "cytology", "clinical_history": "x" * 200_000}
    response = api(vet_owner).post("/api/v1/protocols", payload)
    assert_api_error(response, 413, "too_large")


def raw_request(port: int, head: str, body: bytes = b"") -> tuple[int, bytes]:
    """Send a request whose Content-Length promises far more than is sent, and
    read the answer: only a server that decides before reading can answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head.encode() + body)
        response = http.client.HTTPResponse(sock)
        response.begin()
        return response.status, response.read()


def test_huge_verification_upload_is_413_before_the_body_is_read(web_process):
    port = web_process().port
    boundary = "XyZ"
    head = (
        "POST /verify/00000000-0000-0000-0000-000000000000/ HTTP/1.1\r\n"
        "Host: 127.0.0.1\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {2**30}\r\n"
        "Connection: close\r\n\r\n"
    )
    status, body = raw_request(port, head, f"--{boundary}\r\n".encode())
    assert status == 413
    assert "demasiado grande" in body.decode()


def test_huge_api_body_is_413_before_the_body_is_read(web_process):
    port = web_process().port
    head = (
        "POST /api/v1/auth/token HTTP/1.1\r\n"
        "Host: 127.0.0.1\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {2**30}\r\n"
        "Connection: close\r\n\r\n"
    )
    status, body = raw_request(port, head, b'{"username": "')
    assert status == 413
    assert json.loads(body)["code"] == "too_large"
