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
    """A connection from Celery's pool (a new one per call cost a few ms of
    every `/up`), proven alive by a round trip where the transport has one:
    a pooled connection may have died with the broker."""
    try:
        with current_app.connection_or_acquire() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            ping = getattr(getattr(conn.default_channel, "client", None), "ping", None)
            if callable(ping):  # Redis
                ping()
    except Exception as exc:
        return f"error: {type(exc).__name__}"
    return "ok"


def present_workers() -> int:
    """Workers whose process is alive (presence rows, refreshed every
    WORKER_PRESENCE_SECONDS by every worker on every broker)."""
    from patolab.jobs.models import WorkerPresence

    fresh = timezone.now() - timedelta(seconds=3 * settings.WORKER_PRESENCE_SECONDS)
    try:
        return WorkerPresence.objects.filter(last_seen__gte=fresh).count()
    except Exception:
        return 0


def ping_workers(timeout: float, limit: int | None = None) -> int:
    """Workers answering a broadcast ping within `timeout`; with `limit`, the
    wait ends as soon as that many have answered (without it, a ping always
    waits the whole timeout: it cannot know how many workers there are)."""
    try:
        return len(current_app.control.ping(timeout=timeout, limit=limit) or [])
    except Exception:
        return 0


def count_workers() -> tuple[int, str]:
    """Live workers and a word for them: a broadcast ping where the broker
    supports it (a worker that stopped consuming does not answer), presence rows
    otherwise.

    The presence rows say how many workers are alive, so the ping stops
    waiting once that many have answered (a few milliseconds, instead of the
    whole timeout every time); a live worker that does not answer still
    costs the timeout, and is not counted.

    Right after a broker restart a worker is alive but still re-binding its
    broadcast queue, and the first quick ping misses it: when presence rows say
    workers are alive, ping again with a longer wait before answering, and call
    the ones that still do not answer "starting" rather than gone."""
    scheme = settings.CELERY_BROKER_URL.split(":", 1)[0].split("+", 1)[0]
    present = present_workers()
    if scheme not in BROADCAST_SCHEMES:
        return present, "ok" if present else "none"
    count = ping_workers(1.0, limit=present or None)
    if count:
        return count, "ok"
    if not present:
        return 0, "none"
    count = ping_workers(3.0, limit=present)
    return (count, "ok") if count else (0, "starting")


def up(request: HttpRequest) -> JsonResponse:
    body: dict[str, Any] = {"database": check_database(), "broker": check_broker()}
    workers, state = count_workers() if body["broker"] == "ok" else (0, "none")
    body["workers"] = workers
    if state == "starting":
        body["workers_state"] = "starting"
    failing = [name for name in ("database", "broker") if body[name] != "ok"]
    if body["workers"] < 1:
        failing.append("workers")
    if failing:
        body["failing"] = failing
        return JsonResponse(body, status=503)
    return JsonResponse(body)
