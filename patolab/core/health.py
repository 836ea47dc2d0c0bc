"""`/up`: database, broker and live workers (API.md, DESIGN section 4)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone

BROADCAST_SCHEMES = ("redis", "rediss", "amqp", "amqps", "pyamqp")


def check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:
        return f"error: {type(exc).__name__}"
    return "ok"


def check_broker() -> str:
    try:
        with current_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:
        return f"error: {type(exc).__name__}"
    return "ok"


def count_workers() -> int:
    """Live workers: a broadcast ping where the broker supports it (a worker that
    stopped consuming does not answer), presence rows otherwise."""
    scheme = settings.CELERY_BROKER_URL.split(":", 1)[0].split("+", 1)[0]
    if scheme in BROADCAST_SCHEMES:
        try:
            return len(current_app.control.ping(timeout=1.0) or [])
        except Exception:
            return 0
    from patolab.jobs.models import WorkerPresence

    fresh = timezone.now() - timedelta(seconds=3 * settings.WORKER_PRESENCE_SECONDS)
    return WorkerPresence.objects.filter(last_seen__gte=fresh).count()


def up(request: HttpRequest) -> JsonResponse:
    body: dict[str, Any] = {"database": check_database(), "broker": check_broker()}
    body["workers"] = count_workers() if body["broker"] == "ok" else 0
    failing = [name for name in ("database", "broker") if body[name] != "ok"]
    if body["workers"] < 1:
        failing.append("workers")
    if failing:
        body["failing"] = failing
        return JsonResponse(body, status=503)
    return JsonResponse(body)
