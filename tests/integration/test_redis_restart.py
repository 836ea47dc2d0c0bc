"""DESIGN section 8: a worker must go on consuming after Redis restarts, and `/up`
must see it. Uses a private Redis server on a free port, so the shared one used
by the rest of the suite is never touched."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from django.db import transaction

from conftest import REDIS_SERVER, ROOT, free_port, start_redis, subprocess_env
from patolab.jobs.models import Job, JobState

pytestmark = pytest.mark.integration


def run_selftest(broker: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", "job_selftest", "--steps", "2", "--wait", "60"],
        cwd=ROOT,
        env=subprocess_env(CELERY_BROKER_URL=broker),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def up_workers(broker: str) -> int:
    return int(up_body(broker)["workers"])


def up_body(broker: str) -> dict:
    script = (
        "import django, json; django.setup();"
        "from django.test import Client;"
        "print(json.dumps(Client().get('/up').json()))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=subprocess_env(
            CELERY_BROKER_URL=broker, DJANGO_SETTINGS_MODULE="config.settings"
        ),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    import json

    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server binary not installed")
def test_worker_keeps_consuming_after_redis_restarts(worker_process, wait):
    port = free_port()
    broker = f"redis://127.0.0.1:{port}/0"
    redis = start_redis(port)
    try:
        worker_process("survivor", CELERY_BROKER_URL=broker)
        assert run_selftest(broker).returncode == 0
        assert up_workers(broker) == 1

        redis.terminate()
        redis.wait(timeout=10)
        time.sleep(2)  # the worker notices the lost connection
        redis = start_redis(port)  # empty: Redis here keeps nothing on disk

        # Right after the restart /up never calls a live worker gone: it counts
        # it (a longer second ping) or says it is starting.
        first = up_body(broker)
        assert first["workers"] == 1 or first.get("workers_state") == "starting"
        # The worker reconnects and consumes again; /up sees it answer pings.
        wait(lambda: up_workers(broker) == 1, timeout=60, interval=1)
        result = run_selftest(broker)
        assert result.returncode == 0, result.stderr[-2000:]
        assert (
            Job.objects.filter(kind="system.selftest", state=JobState.SUCCEEDED).count()
            == 2
        )
    finally:
        redis.terminate()
        redis.wait(timeout=10)


def test_job_whose_message_was_lost_is_resent_by_the_sweeper(
    worker_process, settings, wait
):
    from config.celery import app
    from patolab.jobs.services import job_start, job_sweep

    with transaction.atomic():
        job = job_start(kind="system.selftest", target="demo:lost", params={"steps": 1})
    # The broker loses the message (a Redis restart without persistence).
    with app.connection_for_write() as conn:
        assert conn.default_channel.queue_purge("default") >= 1
    worker_process("sweeper-target", queues="default")
    time.sleep(2)
    assert Job.objects.get(pk=job.pk).state == JobState.QUEUED  # nobody will run it

    settings.JOBS_STUCK_QUEUED_SECONDS = 1
    assert job_sweep() == {"requeued": 1, "recovered": 0, "failed": 0}
    wait(
        lambda: Job.objects.filter(pk=job.pk, state=JobState.SUCCEEDED).exists(),
        timeout=30,
    )
