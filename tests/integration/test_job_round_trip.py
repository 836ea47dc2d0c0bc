"""A real worker runs jobs end to end over the real broker."""

from __future__ import annotations

import pytest
from django.db import transaction

from patolab.jobs.models import Job, JobState
from patolab.jobs.services import job_start

pytestmark = pytest.mark.integration


def test_job_goes_queued_running_succeeded_with_progress(celery_worker, admin, wait):
    seen_states = set()
    with transaction.atomic():
        job = job_start(
            kind="system.selftest", params={"steps": 6, "delay": 0.3}, user=admin
        )
    assert Job.objects.get(pk=job.pk).state == JobState.QUEUED

    def finished():
        row = Job.objects.get(pk=job.pk)
        seen_states.add(row.state)
        return row.state == JobState.SUCCEEDED and row

    row = wait(finished, timeout=30, interval=0.05)
    assert JobState.RUNNING in seen_states
    assert (row.progress_current, row.progress_total) == (6, 6)
    assert row.result["steps"] == 6
    assert row.started_at is not None
    assert row.finished_at >= row.started_at
    assert row.attempts == 1
