"""The job and e-mail integration suites on RabbitMQ too (issue 11, "A worker
fleet"): the same tests, run in a child pytest with an `amqp://` broker.

Runs when RabbitMQ answers on 127.0.0.1:5672 (CI starts it; RABBITMQ_URL
overrides the address); CI=true makes a missing RabbitMQ a failure, not a skip.
Bounded: the child run is killed after RABBITMQ_RUN_SECONDS (default 480 s).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from conftest import ROOT

pytestmark = pytest.mark.integration
AMQP_URL = os.environ.get("RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//")
SUITES = [
    "tests/integration/test_job_round_trip.py",
    "tests/integration/test_email_delivery.py",
    "tests/integration/test_job_reliability.py",
]


def rabbitmq_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5672), timeout=2):
            return True
    except OSError:
        return False


def test_job_and_email_integration_suites_pass_on_rabbitmq(tmp_path):
    if not rabbitmq_answers():
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail("CI=true but RabbitMQ does not answer on 127.0.0.1:5672")
        pytest.skip("RabbitMQ does not answer on 127.0.0.1:5672")
    env = dict(os.environ)
    env["CELERY_BROKER_URL"] = AMQP_URL
    # A database of its own: the parent run holds the usual test database.
    env["TEST_DATABASE_NAME"] = f"test_patolab_amqp_{os.getpid()}"
    env["PATOLAB_VAR_DIR"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *SUITES],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=float(os.environ.get("RABBITMQ_RUN_SECONDS", "480")),
        check=False,
    )
    summary = result.stdout.strip().splitlines()[-1] if result.stdout else ""
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in summary
    assert "failed" not in summary
