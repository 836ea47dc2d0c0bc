"""Root fixtures: personas, API clients, real Celery workers, a real SMTP sink."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connections
from django.test import Client

import tests.jobkinds  # noqa: F401  (registers the test-only job kinds)
from patolab.accounts.models import Role, User, Veterinarian
from patolab.accounts.services import user_create, veterinarian_create

ROOT = Path(__file__).resolve().parent
QUEUES = "pdf_generation,emails,bulk,default"
PASSWORD = "secreto-de-prueba"  # noqa: S105


# ---------------------------------------------------------------- isolation
@pytest.fixture(autouse=True)
def _media_root(settings: Any, tmp_path: Path) -> Path:
    media = tmp_path / "media"
    media.mkdir()
    settings.MEDIA_ROOT = str(media)
    return media


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    """Throttling counters live in the cache: every test starts from zero."""
    from django.core.cache import cache

    cache.clear()
    return


@pytest.fixture(scope="session", autouse=True)
def _close_stray_connections(
    django_db_setup: None, django_db_blocker: Any
) -> Iterator[None]:
    """Threads (the test worker's pool, live_server) keep their own database
    connections; end them before the test database is dropped."""
    yield
    if connections["default"].vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    connections.close_all()


# ---------------------------------------------------------------- personas
def make_vet(username: str, name: str) -> Veterinarian:
    return veterinarian_create(
        username=username,
        password=PASSWORD,
        full_name=name,
        email=f"{username}@vet.example",
        license_number="MP 1234",
        phone="221 555-0101",
        locality="La Plata",
    )


@pytest.fixture
def vet_owner(db: None) -> User:
    return make_vet("vet_owner", "Ana Owner").user


@pytest.fixture
def vet_other(db: None) -> User:
    return make_vet("vet_other", "Bruno Other").user


@pytest.fixture
def technician(db: None) -> User:
    return user_create(
        username="tecnico",
        password=PASSWORD,
        role=Role.LAB_STAFF,
        email="tecnico@lab.example",
    )


@pytest.fixture
def pathologist(db: None) -> User:
    return user_create(
        username="patologa",
        password=PASSWORD,
        role=Role.HISTOPATHOLOGIST,
        email="patologa@lab.example",
        first_name="Paula",
        last_name="Patóloga",
    )


@pytest.fixture
def admin(db: None) -> User:
    return user_create(
        username="jefa", password=PASSWORD, role=Role.ADMIN, email="jefa@lab.example"
    )


# ---------------------------------------------------------------- API clients
class ApiClient:
    """A test client that talks JSON with a bearer token (or anonymously)."""

    def __init__(self, user: User | None = None) -> None:
        self.client = Client()
        self.headers: dict[str, str] = {}
        if user is not None:
            response = self.client.post(
                "/api/v1/auth/token",
                {"username": user.username, "password": PASSWORD},
                content_type="application/json",
            )
            assert response.status_code == 200, response.content
            self.headers["Authorization"] = f"Bearer {response.json()['token']}"

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(path, params, headers=self.headers)

    def post(self, path: str, data: Any = None) -> Any:
        return self.client.post(
            path, data or {}, content_type="application/json", headers=self.headers
        )

    def patch(self, path: str, data: Any = None) -> Any:
        return self.client.patch(
            path, data or {}, content_type="application/json", headers=self.headers
        )


@pytest.fixture
def api() -> Callable[[User | None], ApiClient]:
    return ApiClient


@pytest.fixture
def login() -> Callable[[User], Client]:
    def make(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


# ---------------------------------------------------------------- Celery workers
@pytest.fixture
def purge_broker() -> None:
    from config.celery import app

    for queue in QUEUES.split(","):
        try:
            with app.connection_for_write() as conn:
                conn.default_channel.queue_purge(queue)
        except Exception:  # noqa: S110 - a queue that does not exist yet is empty
            pass


@pytest.fixture(scope="session")
def _session_worker(django_db_setup: None, django_db_blocker: Any) -> Iterator[Any]:
    """One real Celery worker thread for the whole session. (Restarting an
    in-process worker per test leaves ETA retries stuck in the second one.)"""
    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    with (
        django_db_blocker.unblock(),
        start_worker(
            app,
            pool="threads",
            concurrency=2,
            queues=QUEUES.split(","),
            perform_ping_check=False,
            loglevel=os.environ.get("TEST_WORKER_LOGLEVEL", "WARNING"),
            shutdown_timeout=30,
        ) as worker,
    ):
        yield worker
    from patolab.jobs import presence

    presence.stop()  # its thread holds a connection that would block DROP DATABASE
    connections.close_all()


_consuming: dict[str, bool] = {}


def _set_consuming(worker: Any, on: bool) -> None:
    """Make the session worker consume the task queues, or stop consuming them,
    so tests that run their own worker processes (or inspect queues) are never
    raced by it. Control commands run inside the worker; replies confirm."""
    from config.celery import app

    if _consuming.get(worker.hostname, True) == on:
        return
    for queue in QUEUES.split(","):
        if on:
            app.control.add_consumer(
                queue, destination=[worker.hostname], reply=True, timeout=5
            )
        else:
            app.control.cancel_consumer(
                queue, destination=[worker.hostname], reply=True, timeout=5
            )
    _consuming[worker.hostname] = on


@pytest.fixture(autouse=True)
def _pause_session_worker(request: pytest.FixtureRequest) -> None:
    if "celery_worker" in request.fixturenames:
        return
    worker = _started.get("worker")
    if worker is not None:
        _set_consuming(worker, False)


_started: dict[str, Any] = {}


@pytest.fixture
def celery_worker(
    transactional_db: None, purge_broker: None, _session_worker: Any
) -> Any:
    """A real Celery worker (a thread) consuming every queue of the real broker."""
    _started["worker"] = _session_worker
    _set_consuming(_session_worker, True)
    return _session_worker


@pytest.fixture
def worker_paused(celery_worker: Any) -> Callable[[], Any]:
    """`with worker_paused():` the real worker takes no message, so requests
    that must race each other all happen before any job can finish."""

    @contextmanager
    def paused() -> Iterator[None]:
        _set_consuming(celery_worker, False)
        try:
            yield
        finally:
            _set_consuming(celery_worker, True)

    return paused


def database_url_for_subprocess() -> str:
    """The URL of the test database, for worker subprocesses."""
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def subprocess_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url_for_subprocess(),
        CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
        MEDIA_ROOT=str(settings.MEDIA_ROOT),
        PATOLAB_JOB_MODULES="tests.jobkinds",
        EMAIL_URL=os.environ.get("EMAIL_URL", "consolemail://"),
        DB_CONN_MAX_AGE="0",
    )
    env.update(extra)
    return env


@dataclass
class WorkerProcess:
    proc: subprocess.Popen[bytes]
    log: Path

    def kill_hard(self) -> None:
        """SIGKILL the whole worker (main process and pool children)."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)


def spawn(
    cmd: list[str], *, log: Path, env: dict[str, str], ready: bytes
) -> WorkerProcess:
    """Start `cmd` in its own process group, output to `log`; wait (60 s at most)
    until the log shows `ready`."""
    with log.open("wb") as out:
        proc = subprocess.Popen(  # noqa: S603
            cmd,
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    started = WorkerProcess(proc=proc, log=log)
    deadline = time.monotonic() + 60
    while ready not in log.read_bytes():
        if proc.poll() is not None or time.monotonic() > deadline:
            started.stop()
            raise RuntimeError(f"{cmd[5]} did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)
    return started


@pytest.fixture
def worker_process(
    transactional_db: None, tmp_path: Path
) -> Iterator[Callable[..., WorkerProcess]]:
    """Factory: start `celery worker` as a real subprocess on the test database."""
    started: list[WorkerProcess] = []

    def start(
        name: str = "w1",
        *,
        concurrency: int = 1,
        queues: str = QUEUES,
        pool: str = "prefork",
        **env: str,
    ) -> WorkerProcess:
        log = tmp_path / f"worker-{name}.log"
        cmd = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-Q",
            queues,
            "-c",
            str(concurrency),
            "-P",
            pool,
            "-n",
            f"{name}@%h",
            "-l",
            "INFO",
            "--without-mingle",
            "--without-gossip",
        ]
        worker = spawn(cmd, log=log, env=subprocess_env(**env), ready=b"ready.")
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def beat_process(
    transactional_db: None, tmp_path: Path
) -> Iterator[Callable[..., WorkerProcess]]:
    """Factory: start `celery beat` (the database scheduler, as `make run` does)
    as a real subprocess on the test database. Declare the schedules first
    (`manage.py setup_periodic_tasks`)."""
    started: list[WorkerProcess] = []

    def start(name: str = "beat", **env: str) -> WorkerProcess:
        log = tmp_path / f"{name}.log"
        cmd = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "beat",
            "-l",
            "INFO",
            "--pidfile=",
        ]
        beat = spawn(cmd, log=log, env=subprocess_env(**env), ready=b"beat: Starting")
        started.append(beat)
        return beat

    yield start
    for beat in started:
        beat.stop()


# ---------------------------------------------------------------- private Redis
REDIS_SERVER = shutil.which("redis-server")


def start_redis(port: int) -> subprocess.Popen[bytes]:
    """A private, empty Redis server on 127.0.0.1:`port` that keeps nothing on
    disk (as the production one here), for tests that stop or restart the broker;
    the shared Redis of the rest of the suite is never touched. Waits until it
    answers PING."""
    assert REDIS_SERVER is not None, "redis-server binary not installed"
    proc = subprocess.Popen(  # noqa: S603
        [
            REDIS_SERVER,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                if sock.recv(16).startswith(b"+PONG"):
                    return proc
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"redis-server did not start on port {port}")
        time.sleep(0.1)


@dataclass
class WebProcess:
    """The production web server (gunicorn, as `make run` starts it)."""

    proc: subprocess.Popen[bytes]
    log: Path
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> WorkerProcess:
        worker = WorkerProcess(proc=self.proc, log=self.log)
        worker.stop()
        return worker


@pytest.fixture
def web_process(
    transactional_db: None, tmp_path: Path
) -> Iterator[Callable[..., WebProcess]]:
    """Factory: start gunicorn (config/gunicorn.py) on a free port against the test
    database; waits until it answers."""
    started: list[WebProcess] = []

    def start(name: str = "web", *, workers: int = 1, **env: str) -> WebProcess:
        port = free_port()
        env.setdefault("WEB_ACCESS_LOG", "")
        log = tmp_path / f"{name}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(  # noqa: S603
                [
                    str(Path(sys.executable).with_name("gunicorn")),
                    "config.wsgi",
                    "-c",
                    "config/gunicorn.py",
                    "--workers",
                    str(workers),
                ],
                cwd=ROOT,
                env=subprocess_env(PORT=str(port), **env),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        web = WebProcess(proc=proc, log=log, port=port)
        started.append(web)
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"gunicorn did not start:\n{log.read_text()[-3000:]}"
                    ) from None
                time.sleep(0.2)
        return web

    yield start
    for web in started:
        web.stop()


def wait_until(
    predicate: Callable[[], Any], timeout: float = 30, interval: float = 0.1
) -> Any:
    """Poll until `predicate()` is truthy; fail the test with a clear message."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)


@pytest.fixture
def wait() -> Callable[..., Any]:
    return wait_until


# ---------------------------------------------------------------- SMTP sink
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class SmtpSink:
    """A real SMTP server (aiosmtpd) on loopback that records what it accepts."""

    port: int
    delay: float = 0.0
    # While set (e.g. "421 4.3.2 ..."), every MAIL FROM gets this answer: an
    # outage of the mail server that still accepts connections.
    refuse_mail: str = ""
    refused: int = 0
    messages: list[Message] = field(default_factory=list)
    _controller: Any = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> SmtpSink:
        from aiosmtpd.controller import Controller

        sink = self

        class Handler:
            async def handle_MAIL(
                self,
                server: Any,
                session: Any,
                envelope: Any,
                address: str,
                options: list[str],
            ) -> str:
                if sink.refuse_mail:
                    sink.refused += 1
                    return sink.refuse_mail
                envelope.mail_from = address
                envelope.mail_options.extend(options)
                return "250 OK"

            async def handle_DATA(
                self, server: Any, session: Any, envelope: Any
            ) -> str:
                if sink.delay:
                    await asyncio.sleep(sink.delay)
                msg = message_from_bytes(envelope.content)
                msg["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
                sink.messages.append(msg)
                return "250 OK"

        self._controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def smtp_sink(settings: Any) -> Iterator[SmtpSink]:
    sink = SmtpSink(port=free_port()).start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = sink.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    yield sink
    sink.stop()
