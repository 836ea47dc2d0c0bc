"""Worker presence rows, for `/up` on brokers that cannot broadcast a ping.

The embedded SQLAlchemy transport has no fanout exchange, so `control.ping()`
can never be answered there; each worker instead refreshes a row every
WORKER_PRESENCE_SECONDS while it runs and deletes it on shutdown.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from celery.signals import worker_ready, worker_shutdown
from django.conf import settings
from django.db import connection
from django.utils import timezone

logger = logging.getLogger(__name__)
_stop = threading.Event()
_threads: list[threading.Thread] = []


def _beat(hostname: str) -> None:
    from .models import WorkerPresence

    try:
        while True:
            try:
                WorkerPresence.objects.update_or_create(
                    hostname=hostname, defaults={"last_seen": timezone.now()}
                )
            except Exception:
                logger.exception("worker presence update failed")
            finally:
                # Don't hold a connection between beats (lets test databases drop).
                connection.close()
            if _stop.wait(settings.WORKER_PRESENCE_SECONDS):
                break
        WorkerPresence.objects.filter(hostname=hostname).delete()
    finally:
        connection.close()


def _on_ready(sender: Any = None, **kwargs: Any) -> None:
    hostname = getattr(sender, "hostname", None) or "worker"
    _stop.clear()
    threading.Thread(
        target=_beat, args=(hostname,), daemon=True, name="presence"
    ).start()


def _on_shutdown(**kwargs: Any) -> None:
    stop()


def stop() -> None:
    """Stop the presence thread(s) of this process and wait for them."""
    _stop.set()
    while _threads:
        _threads.pop().join(timeout=10)


def connect_signals() -> None:
    worker_ready.connect(_on_ready, weak=False, dispatch_uid="patolab-presence-ready")
    worker_shutdown.connect(
        _on_shutdown, weak=False, dispatch_uid="patolab-presence-stop"
    )
