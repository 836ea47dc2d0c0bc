"""`make test`: pick the real services when they answer, say which, run pytest.

PostgreSQL and Redis on 127.0.0.1 (or DATABASE_URL / CELERY_BROKER_URL when set);
otherwise the embedded defaults (SQLite file, SQLAlchemy broker). With CI=true a
missing service is an error: CI must prove the real ones.
"""

from __future__ import annotations

import os
import socket
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def redis_answers(host: str = "127.0.0.1", port: int = 6379) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def main() -> int:
    env = os.environ
    ci = env.get("CI", "").lower() in {"1", "true", "yes"}
    tmp = Path(tempfile.mkdtemp(prefix="patolab-test-"))
    env.setdefault("PATOLAB_VAR_DIR", str(tmp))
    if not env.get("DATABASE_URL"):
        if answers("127.0.0.1", 5432):
            env["DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/patolab"
        elif ci:
            print(
                "tests: CI=true but PostgreSQL does not answer on 127.0.0.1:5432",
                file=sys.stderr,
            )
            return 2
    if not env.get("CELERY_BROKER_URL"):
        if redis_answers():
            env["CELERY_BROKER_URL"] = "redis://127.0.0.1:6379/0"
        elif ci:
            print(
                "tests: CI=true but Redis does not answer on 127.0.0.1:6379",
                file=sys.stderr,
            )
            return 2
        else:
            env["CELERY_BROKER_URL"] = f"sqla+sqlite:///{tmp / 'broker.sqlite3'}"
    database = env.get("DATABASE_URL") or f"sqlite (embedded, {tmp})"
    if ci and not database.startswith("postgres"):
        print("tests: CI=true requires PostgreSQL", file=sys.stderr)
        return 2
    print(
        f"tests: database={database.split('@')[-1]} broker={env['CELERY_BROKER_URL']}",
        flush=True,
    )
    env.setdefault("FAST_PASSWORD_HASHER", "1")
    env.setdefault("DB_CONN_MAX_AGE", "0")  # worker threads close after each task
    env.setdefault("PATOLAB_JOB_MODULES", "tests.jobkinds")
    env.setdefault("EMAIL_URL", "consolemail://")
    os.chdir(ROOT)
    import pytest

    code = pytest.main(sys.argv[1:])
    if code == pytest.ExitCode.NO_TESTS_COLLECTED:
        print("tests: no test ran; that is a broken run", file=sys.stderr)
        return 1
    return int(code)


if __name__ == "__main__":
    sys.exit(main())
