"""Sessions read from a shared Redis cache (CACHE_URL): no database query per
request, and logging out ends the session everywhere. The session's user is
read by a prepared statement (UserBackend) that loads the same user."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext


@pytest.fixture
def redis_sessions(settings):
    url = settings.CELERY_BROKER_URL
    if not url.startswith("redis://"):
        pytest.skip("needs Redis (the shared cache sessions are read from)")
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": "patolab-test-sessions",
        }
    }
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"


def test_a_logged_in_request_reads_its_session_without_a_database_query(
    redis_sessions, vet_owner
):
    client = Client()
    client.force_login(vet_owner)
    client.get("/protocolos/")  # warm: the session is in the cache now
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/protocolos/")
    assert response.status_code == 200
    assert response.wsgi_request.user == vet_owner
    assert not [q for q in queries if "django_session" in q["sql"]]


def test_logout_ends_the_cached_session_for_every_copy_of_the_cookie(
    redis_sessions, vet_owner
):
    client = Client()
    client.force_login(vet_owner)
    stolen = Client()
    stolen.cookies = client.cookies.__class__(client.cookies)
    assert stolen.get("/protocolos/").status_code == 200
    client.post("/cuentas/logout/")
    response = stolen.get("/protocolos/")
    assert response.status_code == 302
    assert "/cuentas/" in response["Location"]


def test_the_session_user_is_loaded_whole_and_a_disabled_one_is_logged_out(
    vet_owner,
):
    client = Client()
    client.force_login(vet_owner)
    response = client.get("/protocolos/")
    user = response.wsgi_request.user
    assert user == vet_owner
    for field in type(vet_owner)._meta.concrete_fields:
        assert getattr(user, field.attname) == getattr(vet_owner, field.attname)
    type(vet_owner).objects.filter(pk=vet_owner.pk).update(is_active=False)
    assert client.get("/protocolos/").status_code == 302


def test_sessions_started_before_the_prepared_backend_stay_valid(vet_owner):
    client = Client()
    client.force_login(vet_owner, backend="django.contrib.auth.backends.ModelBackend")
    assert client.get("/protocolos/").status_code == 200


def test_a_wrong_password_is_hashed_once(vet_owner, monkeypatch):
    from django.contrib.auth import authenticate
    from django.test import RequestFactory

    calls = []
    original = type(vet_owner).check_password

    def counting(self, raw):
        calls.append(raw)
        return original(self, raw)

    monkeypatch.setattr(type(vet_owner), "check_password", counting)
    request = RequestFactory().post("/cuentas/login/")
    assert authenticate(request, username="vet_owner", password="wrong") is None
    assert calls == ["wrong"]
