"""The job layer's contracts, without a worker: claiming, sweeping, retrying."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from patolab.core.errors import Conflict
from patolab.jobs.models import Job, JobState
from patolab.jobs.services import (
    Progress,
    job_claim,
    job_execute,
    job_retry,
    job_start,
    job_sweep,
)


@pytest.fixture
def queued_job(admin, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = job_start(kind="system.selftest", target="demo:1", user=admin)
    assert len(callbacks) == 1  # one send, after commit
    return job


def test_second_start_for_the_same_target_returns_the_active_job(queued_job, admin):
    again = job_start(kind="system.selftest", target="demo:1", user=admin)
    assert again.pk == queued_job.pk
    other = job_start(kind="system.selftest", target="demo:2", user=admin)
    assert other.pk != queued_job.pk


def test_finished_job_does_not_block_a_new_one(queued_job, admin):
    Job.objects.filter(pk=queued_job.pk).update(state=JobState.SUCCEEDED)
    again = job_start(kind="system.selftest", target="demo:1", user=admin)
    assert again.pk != queued_job.pk


def test_a_start_refused_by_a_job_that_then_finishes_returns_that_job(
    queued_job, admin, monkeypatch, django_capture_on_commit_callbacks
):
    # The race: the INSERT is refused because `queued_job` is active, and the
    # worker finishes it before the lookup runs. The request gets the job that
    # just did the work, never a second job (nor a second send).
    from patolab.jobs import services

    real_lookup = services.job_active_for

    def finishes_first(**kwargs):
        Job.objects.filter(pk=queued_job.pk).update(state=JobState.SUCCEEDED)
        return real_lookup(**kwargs)

    monkeypatch.setattr(services, "job_active_for", finishes_first)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        again = job_start(kind="system.selftest", target="demo:1", user=admin)
    assert again.pk == queued_job.pk
    assert again.state == JobState.SUCCEEDED
    assert callbacks == []
    assert Job.objects.filter(target="demo:1").count() == 1


def test_unknown_kind_is_refused(admin):
    with pytest.raises(LookupError):
        job_start(kind="no.such.kind", user=admin)


def test_claim_is_exclusive_per_delivery(queued_job):
    task_a = queued_job.celery_task_id
    first = job_claim(job_id=str(queued_job.pk), task_id=task_a)
    assert first is not None
    assert first.state == JobState.RUNNING
    assert first.attempts == 1
    # Another message for the same job (a stale copy) cannot take it.
    assert job_claim(job_id=str(queued_job.pk), task_id="task-b") is None
    # The same message redelivered while the run is alive cannot either.
    assert job_claim(job_id=str(queued_job.pk), task_id=task_a) is None


def test_a_message_the_row_does_not_expect_cannot_claim_a_queued_job(queued_job):
    assert job_claim(job_id=str(queued_job.pk), task_id="stale-copy") is None
    assert Job.objects.get(pk=queued_job.pk).state == JobState.QUEUED


def test_redelivered_message_reclaims_a_job_whose_run_went_silent(queued_job, settings):
    task_a = queued_job.celery_task_id
    job_claim(job_id=str(queued_job.pk), task_id=task_a)
    silent = timezone.now() - timedelta(seconds=3 * settings.JOBS_HEARTBEAT_SECONDS)
    Job.objects.filter(pk=queued_job.pk).update(heartbeat_at=silent)
    again = job_claim(job_id=str(queued_job.pk), task_id=task_a)
    assert again is not None
    assert again.attempts == 2


def test_sweeper_resends_stuck_queued_and_silent_running_jobs(
    admin, settings, django_capture_on_commit_callbacks
):
    old = timezone.now() - timedelta(seconds=settings.JOBS_STUCK_QUEUED_SECONDS + 5)
    with django_capture_on_commit_callbacks(execute=False):
        stuck = job_start(kind="system.selftest", target="demo:stuck", user=admin)
        fresh = job_start(kind="system.selftest", target="demo:fresh", user=admin)
        dead = job_start(kind="system.selftest", target="demo:dead", user=admin)
    Job.objects.filter(pk=stuck.pk).update(queued_at=old)
    job_claim(job_id=str(dead.pk), task_id=dead.celery_task_id)
    stale = timezone.now() - timedelta(seconds=settings.JOBS_STALE_RUNNING_SECONDS + 5)
    Job.objects.filter(pk=dead.pk).update(heartbeat_at=stale)
    old_task_ids = {
        job.pk: Job.objects.get(pk=job.pk).celery_task_id for job in (stuck, dead)
    }

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        counts = job_sweep()

    assert counts == {"requeued": 1, "recovered": 1, "failed": 0}
    assert len(callbacks) == 2
    for job in (stuck, dead):
        row = Job.objects.get(pk=job.pk)
        assert row.state == JobState.QUEUED
        assert row.celery_task_id != old_task_ids[job.pk]
    assert Job.objects.get(pk=fresh.pk).celery_task_id == fresh.celery_task_id
    # A late copy of the dead run's message can no longer claim the job.
    assert job_claim(job_id=str(dead.pk), task_id=old_task_ids[dead.pk]) is None


def test_retry_is_only_for_failed_jobs(queued_job, admin):
    with pytest.raises(Conflict):
        job_retry(job=queued_job, user=admin)
    Job.objects.filter(pk=queued_job.pk).update(
        state=JobState.FAILED, error="boom", attempts=5
    )
    job = job_retry(job=Job.objects.get(pk=queued_job.pk), user=admin)
    assert job.state == JobState.QUEUED
    assert job.error == ""
    assert job.attempts == 0


def test_retry_refused_while_another_job_for_the_target_is_active(queued_job, admin):
    Job.objects.filter(pk=queued_job.pk).update(state=JobState.FAILED)
    newer = job_start(kind="system.selftest", target="demo:1", user=admin)
    assert newer.pk != queued_job.pk
    with pytest.raises(Conflict):
        job_retry(job=Job.objects.get(pk=queued_job.pk), user=admin)


def test_progress_writes_are_rate_limited_but_the_last_one_lands(queued_job):
    job = job_claim(job_id=str(queued_job.pk), task_id=queued_job.celery_task_id)
    progress = Progress(job)
    progress(0, 1000, force=True)
    for current in range(1, 1000):
        progress(current)
    assert Job.objects.get(pk=job.pk).progress_current < 999
    progress(1000)
    assert Job.objects.get(pk=job.pk).progress_current == 1000


def test_lab_colleagues_can_open_each_others_jobs_but_vets_cannot(
    api, technician, pathologist, vet_owner, vet_other
):
    from django.db import transaction

    with transaction.atomic():
        lab_job = job_start(kind="system.selftest", user=technician)
        vet_job = job_start(kind="system.selftest", user=vet_owner)
    assert api(pathologist).get(f"/api/v1/jobs/{lab_job.pk}").status_code == 200
    assert api(vet_owner).get(f"/api/v1/jobs/{lab_job.pk}").status_code == 404
    assert api(vet_other).get(f"/api/v1/jobs/{vet_job.pk}").status_code == 404
    assert api(technician).get(f"/api/v1/jobs/{vet_job.pk}").status_code == 404
    # The list stays "the caller's jobs".
    assert api(pathologist).get("/api/v1/jobs").json()["count"] == 0


def test_a_broker_down_at_commit_is_logged_and_the_job_left_to_the_sweeper(
    transactional_db, admin, monkeypatch, caplog
):
    """Redis or RabbitMQ refusing the publish after the commit must not raise
    out of the request or job that started it (found by the Redis-restart
    drill: a finalization failed with AttributeError from Django's logging of a
    functools.partial callback). The row stays queued; the sweeper re-sends it."""
    from django.db import transaction
    from kombu.exceptions import OperationalError

    from config.celery import app

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1. Connection refused.")

    monkeypatch.setattr(app, "send_task", broker_down)
    with transaction.atomic():
        job = job_start(kind="system.selftest", target="demo:broker-down", user=admin)
    assert Job.objects.get(pk=job.pk).state == JobState.QUEUED
    assert "Connection refused" in caplog.text


def test_a_lost_database_connection_is_retried_not_failed(
    transactional_db, admin, django_capture_on_commit_callbacks
):
    """A handler whose connection PostgreSQL dropped (a restart, a failover) is
    retried on a new connection like any transient error; the job is not failed."""
    with django_capture_on_commit_callbacks(execute=False), transaction.atomic():
        job = job_start(kind="test.db_lost", target="demo:db", user=admin)
    claimed = job_claim(job_id=str(job.pk), task_id=job.celery_task_id)
    assert claimed is not None
    outcome = job_execute(job=claimed)
    assert outcome.retry_in is not None
    row = Job.objects.get(pk=job.pk)
    assert row.state == JobState.QUEUED
    assert "terminating connection" in row.error
    again = job_claim(job_id=str(job.pk), task_id=job.celery_task_id)
    assert again is not None
    assert job_execute(job=again).summary["state"] == JobState.SUCCEEDED
    assert Job.objects.get(pk=job.pk).result == {"attempt": 2}
