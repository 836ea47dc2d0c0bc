"""Nothing lost in a long outage, nothing re-sent forever (issue 11, findings 4-5).

Real worker processes, the real broker and a real SMTP server; the schedules are
shrunk through settings (never the code) so minutes become seconds.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone

from conftest import SmtpSink, free_port
from patolab.jobs.models import Job, JobState
from patolab.jobs.services import job_start, job_sweep
from patolab.notifications import emails
from patolab.notifications.models import EmailLog, EmailStatus
from patolab.notifications.services import email_log_deliver, email_log_sweep
from patolab.notifications.tests.factories import make_received_protocol

pytestmark = pytest.mark.integration


def smtp_env(port: int) -> dict[str, str]:
    return {"EMAIL_URL": f"smtp://127.0.0.1:{port}?timeout=5"}


def test_email_outlasts_an_outage_longer_than_the_old_retry_budget(
    worker_process, vet_owner, wait
):
    """The old schedule gave up after 8 retries (5-7 minutes). Shrunk 300x
    (backoff capped at 1 s), an outage of 12 s spans far more than 8 attempts:
    the e-mail still arrives, once, when SMTP comes back."""
    port = free_port()
    worker_process(
        "mail",
        queues="emails",
        CELERY_RETRY_BACKOFF_MAX="1",
        **smtp_env(port),
    )
    sink = SmtpSink(port=port)
    try:
        with transaction.atomic():
            protocol = make_received_protocol(vet_owner)
            log = emails.protocol_received(protocol=protocol)
        wait(lambda: EmailLog.objects.get(pk=log.pk).attempts > 8, timeout=40)
        row = EmailLog.objects.get(pk=log.pk)
        assert row.status != EmailStatus.FAILED
        assert "ConnectionRefusedError" in row.last_error
        sink.start()
        wait(
            lambda: EmailLog.objects.get(pk=log.pk).status == EmailStatus.SENT,
            timeout=30,
        )
        time.sleep(2)  # room for a duplicate
        assert len(sink.messages) == 1
    finally:
        sink.stop()


def test_transient_failures_give_up_only_after_the_retry_lifetime(settings, vet_owner):
    settings.EMAIL_BACKEND = "patolab.notifications.backends.PooledSmtpBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = free_port()  # nobody listens: connection refused
    settings.EMAIL_TIMEOUT = 2
    protocol = make_received_protocol(vet_owner)
    log = emails.protocol_received(protocol=protocol)
    assert settings.EMAIL_RETRY_FOR_SECONDS >= 24 * 3600
    # 47 hours old and 300 attempts: still retrying.
    EmailLog.objects.filter(pk=log.pk).update(
        created_at=timezone.now() - timedelta(hours=47), attempts=300
    )
    assert email_log_deliver(email_log_id=log.pk).outcome == "retry"
    EmailLog.objects.filter(pk=log.pk).update(
        created_at=timezone.now() - timedelta(hours=49), next_attempt_at=None
    )
    assert email_log_deliver(email_log_id=log.pk).outcome == "failed"
    row = EmailLog.objects.get(pk=log.pk)
    assert "Se agotaron los reintentos" in row.last_error


def test_a_row_stuck_in_sending_is_retaken_within_a_minute(
    vet_owner, django_capture_on_commit_callbacks
):
    protocol = make_received_protocol(vet_owner)
    log = emails.protocol_received(protocol=protocol)
    now = timezone.now()
    EmailLog.objects.filter(pk=log.pk).update(
        status=EmailStatus.SENDING, sending_started_at=now - timedelta(seconds=10)
    )
    with django_capture_on_commit_callbacks():
        assert email_log_sweep()["requeued_sending"] == 0  # maybe still sending
    EmailLog.objects.filter(pk=log.pk).update(
        sending_started_at=now - timedelta(seconds=45)
    )
    with django_capture_on_commit_callbacks() as callbacks:
        assert email_log_sweep()["requeued_sending"] == 1
    assert len(callbacks) == 1
    assert EmailLog.objects.get(pk=log.pk).status == EmailStatus.QUEUED


def test_a_slow_send_is_never_retaken_while_alive(
    settings, smtp_sink, vet_owner, django_capture_on_commit_callbacks
):
    """SMTP takes 4 s to accept; the stale threshold is 1 s and the sweeper runs
    all the while: the heartbeat keeps the row owned, one message arrives."""
    settings.EMAIL_SENDING_STALE_SECONDS = 1
    smtp_sink.delay = 4
    protocol = make_received_protocol(vet_owner)
    log = emails.protocol_received(protocol=protocol)
    retaken: list[int] = []
    stop = threading.Event()

    def sweep() -> None:
        from django.db import connection

        try:
            while not stop.wait(0.3):
                retaken.append(email_log_sweep()["requeued_sending"])
        finally:
            connection.close()

    sweeper = threading.Thread(target=sweep)
    with django_capture_on_commit_callbacks():
        sweeper.start()
        try:
            assert email_log_deliver(email_log_id=log.pk).outcome == "sent"
        finally:
            stop.set()
            sweeper.join()
    assert len(retaken) >= 5
    assert sum(retaken) == 0
    assert len(smtp_sink.messages) == 1


def test_a_job_that_kills_its_worker_fails_after_max_attempts(
    worker_process, settings, admin, wait
):
    settings.JOBS_MAX_ATTEMPTS = 3
    settings.JOBS_STALE_RUNNING_SECONDS = 2
    worker_process(
        "victim",
        queues="default",
        concurrency=1,
        JOBS_MAX_ATTEMPTS="3",
        JOBS_HEARTBEAT_SECONDS="1",
    )
    with transaction.atomic():
        job = job_start(kind="test.poison", target="demo:poison", user=admin)

    def settled() -> bool:
        job_sweep()  # what beat does every 30 s
        return Job.objects.get(pk=job.pk).state == JobState.FAILED

    wait(settled, timeout=90, interval=1)
    failed = Job.objects.get(pk=job.pk)
    assert failed.attempts == 3
    assert "detuvo el worker 3 veces" in failed.error
    # Not re-sent any more: sweeps and redeliveries leave it alone.
    for _ in range(4):
        job_sweep()
        time.sleep(1)
    again = Job.objects.get(pk=job.pk)
    assert (again.state, again.attempts) == (JobState.FAILED, 3)
    # The monitor lists it with a retry button.
    staff = Client()
    staff.force_login(admin)
    page = staff.get("/trabajos/monitor/").content.decode()
    assert "detuvo el worker 3 veces" in page
    assert f"/trabajos/{job.pk}/retry/" in page
