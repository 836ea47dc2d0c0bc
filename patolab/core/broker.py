"""The embedded broker: kombu's SQLAlchemy transport, made fit for `make run`.

kombu's stock `sqla+` transport has three traits that hurt a one-machine lab:

- An idle worker sleeps the virtual transport's `polling_interval` (1 s) after
  every round of empty queues, and the stock channel cannot be given a shorter
  one: every transport option is handed to `create_engine()`, which rejects
  `polling_interval`. A job queued while the worker idles waited up to ~1 s,
  and with `prefetch_multiplier=1` a backlog drained at about one job per
  second per pool slot.
- Every empty poll of every queue takes SQLite's write lock (`BEGIN
  IMMEDIATE`), so short polling would serialise producers behind consumers.
- A consumed message is only flagged `visible = false` and never deleted: the
  table grows forever and `queue_declare().message_count` (our job monitor's
  "messages in the broker") counts messages that were consumed long ago.

The worker also took up to 2 s to start the next job of a backlog (see
`Transport.drain_events`). This channel peeks with a plain read first (no lock) and takes the write lock
only when there is a message to claim, deletes the message it claims (kombu's
virtual QoS keeps unacked messages in memory and re-publishes them on a warm
shutdown, exactly as before; a SIGKILLed worker's message is lost either way,
and our job sweeper re-sends its job), counts only waiting messages, runs the
SQLite file in WAL mode with a busy timeout, and polls every 50 ms (override
with the `polling_interval` transport option).

An idle consumer does not sleep those 50 ms blindly: it waits on a Unix
datagram socket of its own in a folder named after the broker file, and every
publish sends each socket there a byte after its commit. A job, or the e-mail
a finished job queues, is picked up at once instead of half an interval later
on average (two such hops made click-to-inbox ~100 ms on the embedded set-up).
The interval stays as the fallback (a lost datagram, no Unix sockets).

`install()` points the `sqla` / `sqlalchemy` URL prefixes at this transport,
so `CELERY_BROKER_URL=sqla+sqlite:///…` keeps working unchanged. Redis and
RabbitMQ are untouched.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import tempfile
import time
from functools import cache
from json import dumps, loads
from pathlib import Path
from queue import Empty
from select import select as wait_readable
from typing import Any

from kombu.transport import TRANSPORT_ALIASES
from kombu.transport import redis as kombu_redis
from kombu.transport import sqlalchemy as kombu_sqla
from kombu.utils.encoding import bytes_to_str
from sqlalchemy import delete, event, func, insert, select, text

# kombu's classes are typed loosely upstream and our overrides follow the
# stock channel's real signatures; type them as what they are to us: Any.
_StockChannel: Any = kombu_sqla.Channel
_StockTransport: Any = kombu_sqla.Transport
_StockRedisChannel: Any = kombu_redis.Channel
_StockRedisTransport: Any = kombu_redis.Transport

POLLING_INTERVAL = 0.05  # seconds an idle worker waits between empty rounds
# Virtual-transport options that are not create_engine() arguments (the stock
# channel passes every option to create_engine(), which rejects these).
_NOT_ENGINE_OPTIONS = ("polling_interval", "visibility_timeout")


class Channel(_StockChannel):  # type: ignore[misc]
    _queue_ids: dict[str, int]

    def _engine_from_config(self) -> Any:
        options = self.connection.client.transport_options
        saved = {key: options.pop(key) for key in _NOT_ENGINE_OPTIONS if key in options}
        try:
            engine = super()._engine_from_config()
        finally:
            options.update(saved)
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        return engine

    def _queue_id(self, queue: str) -> int:
        cache = self.__dict__.setdefault("_queue_ids", {})
        if queue not in cache:
            cache[queue] = int(self._get_or_create(queue).id)
        return int(cache[queue])

    def _put(self, queue: str, payload: Any, **kwargs: Any) -> None:
        table = self.message_cls.__table__
        session = self.session
        try:
            session.execute(
                insert(table).values(
                    queue_id=self._queue_id(queue),
                    payload=dumps(payload),
                    visible=True,
                    version=1,
                )
            )
            session.commit()
        except Exception:
            session.rollback()
            raise
        _wake(wake_folder(self.connection.client.hostname))

    def _get(self, queue: str) -> Any:
        table = self.message_cls.__table__
        session = self.session
        first = (
            select(table.c.id, table.c.payload)
            .where(table.c.queue_id == self._queue_id(queue), table.c.visible)
            .order_by(table.c.id)
            .limit(1)
        )
        try:
            # Peek without a lock: nearly every poll of an idle worker ends here.
            if session.execute(first).first() is None:
                raise Empty()
            if session.bind.dialect.name == "sqlite":
                session.commit()
                session.execute(text("BEGIN IMMEDIATE TRANSACTION"))
                row = session.execute(first).first()
            else:
                row = session.execute(first.with_for_update(skip_locked=True)).first()
            if row is None:
                raise Empty()  # another consumer took it between peek and lock
            session.execute(delete(table).where(table.c.id == row.id))
            session.commit()
        except BaseException:
            session.rollback()
            raise
        return loads(bytes_to_str(row.payload))

    def _size(self, queue: str) -> int:
        table = self.message_cls.__table__
        session = self.session
        try:
            count = session.execute(
                select(func.count())
                .select_from(table)
                .where(table.c.queue_id == self._queue_id(queue), table.c.visible)
            ).scalar_one()
        finally:
            session.commit()
        return int(count)

    def _purge(self, queue: str) -> int:
        table = self.message_cls.__table__
        session = self.session
        try:
            result = session.execute(
                delete(table).where(table.c.queue_id == self._queue_id(queue))
            )
            session.commit()
        except Exception:
            session.rollback()
            raise
        return int(result.rowcount or 0)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL: pollers read while a producer writes; the busy timeout makes a
    # writer wait for the lock instead of failing at once.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


@cache
def wake_folder(broker: str) -> Path:
    """Where the consumers of the broker database `broker` keep their wake-up
    sockets (a short path: Unix socket paths are limited to ~100 bytes)."""
    digest = hashlib.sha256(broker.encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"patolab-wake-{digest}"


def _wake(folder: Path) -> None:
    """Send a byte to every consumer socket in `folder`; forget dead ones."""
    try:
        names = os.listdir(folder)
    except OSError:
        return
    if not names or not hasattr(socket, "AF_UNIX"):
        return
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sender:
        sender.setblocking(False)
        for name in names:
            path = folder / name
            try:
                sender.sendto(b"!", str(path))
            except (ConnectionRefusedError, FileNotFoundError):
                with contextlib.suppress(OSError):
                    path.unlink()  # its process is gone
            except OSError:
                pass  # a full queue: that consumer is due to wake anyway


class Transport(_StockTransport):  # type: ignore[misc]
    Channel = Channel
    polling_interval = POLLING_INTERVAL
    _waker: socket.socket | None = None
    _waker_pid = 0

    def drain_events(self, connection: Any, timeout: float | None = None) -> Any:
        # Celery's loop for polling transports calls drain_events(timeout=2)
        # and runs the pending acks only between calls. With every prefetch
        # slot taken (prefetch 1, acks_late) no channel may consume until
        # those acks run, so the stock loop idled out the full 2 s after each
        # job. Hand control back after one interval instead.
        if timeout is not None and not any(
            channel._consumers and channel.qos.can_consume()
            for channel in self.channels
        ):
            # A publish meanwhile ends the wait early: the slot may be free
            # by then (the pool acknowledges from its own thread).
            self._wait(min(self.polling_interval, timeout))
            raise TimeoutError  # socket.timeout, what the loop expects
        # The stock loop, waiting on the wake-up socket between empty rounds.
        start = time.monotonic()
        interval = self.polling_interval
        if timeout and interval > timeout:
            interval = timeout
        while True:
            try:
                self.cycle.get(self._deliver, timeout=timeout)
                return None
            except Empty:
                if timeout is not None and time.monotonic() - start >= timeout:
                    raise TimeoutError from None
                self._wait(interval)

    def _wait(self, seconds: float) -> None:
        """Sleep up to `seconds`, less if a publish wakes this consumer."""
        waker = self._wake_socket()
        if waker is None:
            time.sleep(seconds)
            return
        if wait_readable([waker], [], [], seconds)[0]:
            with contextlib.suppress(OSError):
                while waker.recv(64):
                    pass

    def _wake_socket(self) -> socket.socket | None:
        """This process's wake-up socket, made on first use; None (plain
        sleeps) where none can be made, which is not tried again."""
        if self._waker_pid == os.getpid():
            return self._waker
        self._waker, self._waker_pid = None, os.getpid()
        if not hasattr(socket, "AF_UNIX"):
            return None
        folder = wake_folder(self.client.hostname)
        path = folder / f"{os.getpid()}-{id(self):x}"
        waker = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            folder.mkdir(mode=0o700, exist_ok=True)
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            waker.bind(str(path))
            waker.setblocking(False)
        except OSError:
            waker.close()
            return None
        self._waker = waker
        return waker

    def close_connection(self, connection: Any) -> None:
        waker, mine = self._waker, self._waker_pid == os.getpid()
        self._waker, self._waker_pid = None, 0  # made anew if used again
        if waker is not None and mine:
            path = Path(waker.getsockname())
            with contextlib.suppress(OSError):
                path.unlink()
                path.parent.rmdir()  # when it was the last consumer
            waker.close()
        super().close_connection(connection)


class RedisChannel(_StockRedisChannel):  # type: ignore[misc]
    """kombu's Redis channel, minus a client object per call: the stock one
    builds a new `redis.Redis` (copying ~80 response callbacks) for every
    publish, queue size or purge. One is kept per channel and connection
    pool; a reconnect builds a new channel and so a new client."""

    def _create_client(self, asynchronous: bool = False) -> Any:
        if asynchronous:
            return super()._create_client(asynchronous=True)
        pool = self.pool
        client = self.__dict__.get("_sync_client")
        if client is None or client.connection_pool is not pool:
            client = self.__dict__["_sync_client"] = self.Client(connection_pool=pool)
        return client


class RedisTransport(_StockRedisTransport):  # type: ignore[misc]
    Channel = RedisChannel


def install() -> None:
    """Make `sqla+…` / `sqlalchemy+…` broker URLs use this transport, and
    `redis://` / `rediss://` the Redis one above."""
    path = f"{__name__}:Transport"
    TRANSPORT_ALIASES["sqla"] = path
    TRANSPORT_ALIASES["sqlalchemy"] = path
    TRANSPORT_ALIASES["redis"] = f"{__name__}:RedisTransport"
    TRANSPORT_ALIASES["rediss"] = f"{__name__}:RedisTransport"
