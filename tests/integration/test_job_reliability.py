"""Jobs survive what production throws at them: crashes, retries, lost sends."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.db import connection, transaction

from config.celery import app
from conftest import ROOT, subprocess_env
from patolab.jobs.models import Job, JobState
from patolab.jobs.services import job_start, job_sweep

pytestmark = pytest.mark.integration


def broker_depth(queue: str) -> int:
    """Messages ready in `queue`. Declared as Celery declares it (durable on
    RabbitMQ, which refuses a redeclaration with other arguments); on Redis a
    declaration is a no-op that reports the list length."""
    with app.connection_for_write() as conn:
        declared = app.amqp.queues[queue].bind(conn.default_channel)
        return int(declared.queue_declare().message_count)


def test_job_round_trip_over_the_embedded_sqlalchemy_broker(worker_process, tmp_path):
    # Both sides are separate processes on the server-less broker, as in `make run`.
    broker = f"sqla+sqlite:///{tmp_path / 'embedded-broker.sqlite3'}"
    worker_process("embedded", CELERY_BROKER_URL=broker)
    result = subprocess.run(
        [sys.executable, "manage.py", "job_selftest", "--steps", "4", "--wait", "60"],
        cwd=ROOT,
        env=subprocess_env(CELERY_BROKER_URL=broker),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    job = Job.objects.get(kind="system.selftest")
    assert job.state == JobState.SUCCEEDED
    assert (job.progress_current, job.progress_total) == (4, 4)
    assert job.started_at is not None
    assert job.queue == "default"


def test_ten_concurrent_starts_for_one_target_give_one_job(transactional_db, admin):
    barrier = threading.Barrier(10)
    ids: list[str] = []
    errors: list[BaseException] = []

    def start() -> None:
        try:
            barrier.wait()
            with transaction.atomic():
                job = job_start(
                    kind="test.flaky", target="reports.report:4242", user=admin
                )
            ids.append(str(job.pk))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=start) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(ids) == 10
    assert len(set(ids)) == 1
    assert (
        Job.objects.filter(kind="test.flaky", target="reports.report:4242").count() == 1
    )


def test_job_in_a_rolled_back_transaction_is_never_sent(
    transactional_db, purge_broker, admin, wait
):
    before = broker_depth("default")

    def failing_request() -> None:
        with transaction.atomic():
            job_start(kind="system.selftest", target="demo:rollback", user=admin)
            raise RuntimeError("the request failed after starting the job")

    with pytest.raises(RuntimeError):
        failing_request()
    assert Job.objects.count() == 0
    assert broker_depth("default") == before
    # The same call that commits does reach the broker: the check above can fail.
    with transaction.atomic():
        job_start(kind="system.selftest", target="demo:commit", user=admin)
    # RabbitMQ routes a publish from another connection asynchronously: wait
    # for it, then leave room for a wrongful second message to show up.
    wait(lambda: broker_depth("default") > before, timeout=10)
    time.sleep(0.5)
    assert broker_depth("default") == before + 1


def test_killed_worker_job_is_finished_once_by_another_worker(
    worker_process, tmp_path, settings, wait
):
    settings.JOBS_STALE_RUNNING_SECONDS = 3
    effects = tmp_path / "effects"
    effects.mkdir()
    first = worker_process("doomed", JOBS_HEARTBEAT_SECONDS="1")
    with transaction.atomic():
        job = job_start(
            kind="test.effect",
            target="demo:crash",
            params={"dir": str(effects), "seconds": 6},
        )
    wait(
        lambda: Job.objects.filter(
            pk=job.pk, state=JobState.RUNNING, progress_current__gte=2
        ).exists(),
        timeout=30,
    )
    first.kill_hard()  # SIGKILL to the worker and its pool child, mid-job
    assert Job.objects.get(pk=job.pk).state == JobState.RUNNING
    assert not (effects / "effects.log").exists()

    worker_process("rescuer", JOBS_HEARTBEAT_SECONDS="1")

    def recovered() -> bool:
        job_sweep()  # what beat runs every JOBS_SWEEP_EVERY_SECONDS
        return Job.objects.filter(pk=job.pk, state=JobState.SUCCEEDED).exists()

    # Stale after 3 s without heartbeat, then 6 s of work: well within 30 s.
    wait(recovered, timeout=30, interval=0.5)
    finished = Job.objects.get(pk=job.pk)
    assert finished.attempts == 2
    assert (effects / "effects.log").read_text().splitlines() == [str(job.pk)]


def test_transient_error_is_retried_then_succeeds(celery_worker, admin, wait):
    with transaction.atomic():
        job = job_start(
            kind="test.flaky", target="demo:flaky", params={"fail_times": 2}, user=admin
        )
    done = wait(
        lambda: Job.objects.filter(pk=job.pk, state=JobState.SUCCEEDED).first(),
        timeout=40,
    )
    assert done.attempts == 3
    assert done.result == {"attempt": 3}
    assert done.error == ""


def test_persistent_failure_ends_failed_and_api_retry_runs_it_again(
    celery_worker, admin, api, tmp_path, wait
):
    fixed = tmp_path / "fixed"
    with transaction.atomic():
        job = job_start(
            kind="test.broken",
            target="demo:broken",
            params={"fixed_flag": str(fixed)},
            user=admin,
        )
    failed = wait(
        lambda: Job.objects.filter(pk=job.pk, state=JobState.FAILED).first(), timeout=40
    )
    assert failed.attempts == 2
    assert "El servidor de archivos no responde" in failed.error

    client = api(admin)
    body = client.get(f"/api/v1/jobs/{job.pk}").json()
    assert body["state"] == "failed"
    assert "El servidor de archivos no responde" in body["error"]

    Path(fixed).write_text("ok")  # the operator fixed the cause
    response = client.post(f"/api/v1/jobs/{job.pk}/retry")
    assert response.status_code == 202
    assert response["Location"] == f"/api/v1/jobs/{job.pk}"
    wait(
        lambda: Job.objects.filter(pk=job.pk, state=JobState.SUCCEEDED).exists(),
        timeout=30,
    )
    assert client.post(f"/api/v1/jobs/{job.pk}/retry").status_code == 409
