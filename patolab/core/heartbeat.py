"""The one heartbeat thread of the project: while a block of slow work runs,
a daemon thread writes "still alive" every few seconds, so a sweeper can tell
slow work from work whose worker died (jobs, e-mail deliveries)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from django.db import connection

from .retry import DATABASE_TRANSIENT_ERRORS, database_reconnect

logger = logging.getLogger(__name__)


class Heartbeat:
    """`with Heartbeat(beat, every=s, what="job 42"):` calls `beat()` every `s`
    seconds on its own thread (and its own database connection, closed at the
    end) until the block ends.

    A lost connection never stops the beat: a silent heartbeat would let the
    sweeper take live work for dead and run it (or send it) a second time, so
    the next beat runs on a new connection.
    """

    def __init__(self, beat: Callable[[], object], *, every: float, what: str) -> None:
        self.beat = beat
        self.every = every
        self.what = what
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, daemon=True, name=f"heartbeat {what}"
        )

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.every):
                try:
                    self.beat()
                except DATABASE_TRANSIENT_ERRORS as exc:
                    logger.warning("heartbeat of %s: %s", self.what, exc)
                    database_reconnect()
        except Exception:
            logger.exception("heartbeat of %s failed", self.what)
        finally:
            connection.close()
