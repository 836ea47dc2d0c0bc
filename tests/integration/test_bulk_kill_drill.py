"""SIGKILL drill (issue 7): the worker running a 200-item bulk job dies mid-way;
another worker finishes it. Every protocol changes once (one history row each)
and every e-mail arrives exactly once at a real SMTP server."""

from __future__ import annotations

import time
from email.header import decode_header, make_header

import pytest
from django.db import transaction

from patolab.jobs.models import Job, JobState
from patolab.protocols.models import Protocol, ProtocolStatus, ProtocolStatusHistory
from patolab.protocols.services import protocol_bulk_status_start
from patolab.protocols.tests.factories import make_protocol
from tests.integration.beat import WORKER_ENV, fast_sweeps, sweep

pytestmark = pytest.mark.integration


def test_bulk_job_killed_mid_way_is_finished_by_another_worker_exactly_once(
    worker_process, purge_broker, smtp_sink, settings, admin, vet_owner, wait
):
    fast_sweeps(settings)
    smtp = {**WORKER_ENV, "EMAIL_URL": smtp_sink.url}
    ids = [make_protocol(vet_owner).pk for _ in range(200)]
    # The layout of `make run`: e-mail has its own worker, which lives on.
    worker_process("emails", queues="emails", concurrency=4, **smtp)
    doomed = worker_process("doomed", queues="bulk", **smtp)
    with transaction.atomic():
        job = protocol_bulk_status_start(
            protocol_ids=ids, status="rejected", note="Frasco roto.", user=admin
        )
    wait(
        lambda: Job.objects.filter(pk=job.pk, progress_current__gte=40).exists(),
        timeout=120,
        interval=0.05,
    )
    doomed.kill_hard()  # SIGKILL: the worker and its pool child, mid-job
    changed_before = Protocol.objects.filter(
        pk__in=ids, status=ProtocolStatus.REJECTED
    ).count()
    assert 0 < changed_before < 200

    worker_process("rescuer", queues="bulk", **smtp)

    def recovered() -> bool:
        sweep()
        return Job.objects.filter(pk=job.pk, state=JobState.SUCCEEDED).exists()

    wait(recovered, timeout=180, interval=0.5)
    done = Job.objects.get(pk=job.pk)
    assert done.attempts == 2
    assert (done.result["succeeded"], done.result["failed"]) == (200, 0)
    assert (
        Protocol.objects.filter(pk__in=ids, status=ProtocolStatus.REJECTED).count()
        == 200
    )
    assert (
        ProtocolStatusHistory.objects.filter(
            protocol_id__in=ids, to_status=ProtocolStatus.REJECTED
        ).count()
        == 200
    )

    # Beat keeps sweeping: an e-mail row the killed worker committed but
    # whose message it never published is re-sent by the e-mail sweeper.
    def mailed_all() -> bool:
        sweep()
        return len(smtp_sink.messages) >= 200

    wait(mailed_all, timeout=180, interval=0.2)
    time.sleep(2)  # a duplicate would arrive now
    assert len(smtp_sink.messages) == 200
    subjects = [
        str(make_header(decode_header(m["Subject"]))) for m in smtp_sink.messages
    ]
    codes = {p.temporary_code for p in Protocol.objects.filter(pk__in=ids)}
    mailed = [code for subject in subjects for code in codes if code in subject]
    assert sorted(mailed) == sorted(codes)
