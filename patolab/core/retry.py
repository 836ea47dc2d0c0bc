"""The one retry delay of the project (jobs and e-mail deliveries), and what a
lost database connection means to them."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections

logger = logging.getLogger(__name__)

RETRY_BASE_SECONDS = 2.0
T = TypeVar("T")

# A connection the server dropped or refused (a restart, a failover, an
# administrator's pg_terminate_backend): worth retrying on a new connection.
# Constraint, data and programming errors are not in this list.
DATABASE_TRANSIENT_ERRORS: tuple[type[Exception], ...] = (
    OperationalError,
    InterfaceError,
)


def retry_delay(attempt: int) -> float:
    """Seconds to wait before retry number `attempt` (1, 2, …) of a transient
    failure: exponential backoff (2 s, 4 s, 8 s…) capped by
    `CELERY_RETRY_BACKOFF_MAX`, far below the broker's visibility timeout (DESIGN
    section 8), with "equal jitter": a random value in the upper half of the
    step, so retries of many failures spread out but never come back at once."""
    cap = float(settings.CELERY_RETRY_BACKOFF_MAX)
    ceiling = min(cap, RETRY_BASE_SECONDS * 2 ** max(attempt - 1, 0))
    return round(random.uniform(ceiling / 2, ceiling), 2)  # noqa: S311 - jitter


def database_reconnect() -> None:
    """Drop this thread's broken connections, so its next query opens a new one.
    Django replaces a broken connection only between requests and tasks; code
    that goes on after a lost connection (a retry, a heartbeat) calls this
    first. Never inside an atomic block."""
    close_old_connections()


def retry_on_lost_connection(
    write: Callable[[], T], *, attempts: int = 6, what: str = "write"
) -> T:
    """Run `write` (a short statement in autocommit, safe to repeat: a
    conditional UPDATE) again on a new connection when the connection is lost,
    up to `attempts` times over about 6 s. For the writes that record an
    outcome already reached (an e-mail the SMTP server accepted): losing them
    would make the work run twice."""
    for attempt in range(1, attempts + 1):
        try:
            return write()
        except DATABASE_TRANSIENT_ERRORS as exc:
            if attempt == attempts:
                raise
            logger.warning("%s: database connection lost, writing again: %s", what, exc)
            database_reconnect()
            time.sleep(min(0.2 * 2 ** (attempt - 1), 2.0))
    raise AssertionError("unreachable")  # pragma: no cover
