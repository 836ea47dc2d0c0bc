"""Failure drills (issue 11, "Tests (real parts)"): real worker and beat
processes against PostgreSQL, Redis and a real SMTP server, each ending with
counts that prove nothing was lost and nothing was done twice.

Schedules are shrunk through settings and environment variables, never in the
code. No timing assertions: every wait is generous, for a loaded machine.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from conftest import (
    PASSWORD,
    REDIS_SERVER,
    ROOT,
    free_port,
    start_redis,
    subprocess_env,
)
from patolab.accounts.models import Role
from patolab.accounts.services import user_create
from patolab.jobs.models import Job, JobState
from patolab.notifications import emails
from patolab.notifications.models import EmailLog, EmailStatus
from patolab.notifications.services import message_id_for
from patolab.notifications.tests.factories import (
    make_finalized_report,
    make_received_protocol,
)
from patolab.protocols.models import Protocol, ProtocolStatus
from patolab.protocols.tests.factories import make_received
from patolab.reports.models import Report, ReportPdf, ReportStatus
from patolab.reports.services import report_create
from patolab.stats.models import DailyStatistics
from patolab.stats.tests.factories import at, protocol

pytestmark = pytest.mark.integration

DAILY = "Estadísticas diarias"  # the beat entry's name (setup_periodic_tasks)


def manage(*args: str, **env: str) -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=subprocess_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]


def log_count(path, text: str) -> int:
    return path.read_text(errors="replace").count(text)


# ---------------------------------------------------------------- Redis restarted empty
REPORTS = 30
DURING_OUTAGE = 5  # of them requested while Redis is down


@pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server binary not installed")
def test_redis_restarted_empty_mid_run_loses_no_finalization_and_doubles_none(
    worker_process,
    beat_process,
    web_process,
    smtp_sink,
    vet_owner,
    technician,
    pathologist,
    wait,
):
    """Finalizations requested through the web process (a real gunicorn);
    Redis, which keeps nothing on disk, is SIGKILLed while 25 of them run, the
    last 5 are requested while it is down, and it comes back empty on the same
    port. The workers and beat reconnect, the sweepers (run by beat) re-send
    the jobs and e-mails whose messages died with Redis, and every report ends
    sent once: one PDF and one e-mail each."""
    port = free_port()
    redis = start_redis(port)
    env = {
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{port}/0",
        "EMAIL_URL": smtp_sink.url,
        "JOBS_SWEEP_EVERY_SECONDS": "2",
        "JOBS_STUCK_QUEUED_SECONDS": "15",
        "JOBS_HEARTBEAT_SECONDS": "1",
        "JOBS_STALE_RUNNING_SECONDS": "10",
        "EMAIL_SWEEP_EVERY_SECONDS": "2",
        "EMAIL_QUEUED_STALE_SECONDS": "5",
    }
    try:
        reports = [
            report_create(
                protocol=make_received(vet_owner, technician),
                histopathologist=pathologist,
                macroscopic="Fragmento de piel de 3 × 2 cm.",
                microscopic="Cordones de queratinocitos atípicos.",
                diagnosis=f"Carcinoma de células escamosas ({n}).",
            )
            for n in range(REPORTS)
        ]
        # The layout of `make run`: a user worker, an e-mail worker, one beat.
        worker_process("user", queues="pdf_generation,default", concurrency=2, **env)
        worker_process("mail", queues="emails", pool="threads", concurrency=8, **env)
        manage("setup_periodic_tasks", **env)
        beat_process("beat", **env)
        web = web_process("web", **env)

        token = requests.post(
            f"{web.url}/api/v1/auth/token",
            json={"username": pathologist.username, "password": PASSWORD},
            timeout=60,
        ).json()["token"]
        auth = {"Authorization": f"Bearer {token}"}

        def finalize(report: Report) -> None:
            response = requests.post(
                f"{web.url}/api/v1/reports/{report.pk}/finalize",
                headers=auth,
                timeout=60,
            )
            assert response.status_code == 202, response.text[:500]

        before, during = reports[:-DURING_OUTAGE], reports[-DURING_OUTAGE:]
        for report in before:
            finalize(report)
        jobs = Job.objects.filter(kind="report.finalize")
        wait(
            lambda: jobs.filter(state=JobState.SUCCEEDED).count() >= 3,
            timeout=120,
            interval=0.2,
        )
        redis.kill()  # SIGKILL: everything queued or unacked in Redis is gone
        redis.wait(timeout=10)
        unfinished = jobs.exclude(state=JobState.SUCCEEDED).count()
        assert unfinished >= 5  # the drill really cut the run in the middle
        # Requests while the broker is down still answer 202: the job row is
        # committed and its lost send is the sweeper's to repeat.
        for report in during:
            finalize(report)
        assert jobs.count() == REPORTS
        redis = start_redis(port)  # empty, on the same port

        def finished() -> bool:
            return jobs.filter(state=JobState.SUCCEEDED).count() == REPORTS

        wait(finished, timeout=240, interval=1)
        mails = EmailLog.objects.filter(kind="report_ready")
        wait(
            lambda: mails.filter(status=EmailStatus.SENT).count() == REPORTS,
            timeout=120,
            interval=1,
        )
        wait(lambda: len(smtp_sink.messages) >= REPORTS, timeout=60)
        time.sleep(8)  # room for a duplicate from a late sweep or redelivery
    finally:
        redis.kill()
        redis.wait(timeout=10)

    assert not jobs.exclude(state=JobState.SUCCEEDED).exists()
    assert Report.objects.filter(status=ReportStatus.SENT).count() == REPORTS
    assert Protocol.objects.filter(status=ProtocolStatus.REPORT_SENT).count() == REPORTS
    per_report = [r.pdfs.count() for r in Report.objects.all()]
    assert per_report == [1] * REPORTS
    assert ReportPdf.objects.count() == REPORTS
    assert mails.count() == REPORTS
    assert len(smtp_sink.messages) == REPORTS
    received_ids = [m["Message-ID"] for m in smtp_sink.messages]
    assert sorted(received_ids) == sorted(
        message_id_for(key) for key in mails.values_list("idempotency_key", flat=True)
    )
    assert (
        sorted(m["X-Envelope-To"] for m in smtp_sink.messages)
        == [vet_owner.email] * REPORTS
    )


# ---------------------------------------------------------------- beat twice
def test_two_beats_by_mistake_still_store_one_daily_row_and_mail_each_admin_once(
    worker_process, beat_process, smtp_sink, admin, vet_owner, wait
):
    """Two `celery beat` processes on the same database scheduler both send
    the daily statistics when it is due (DESIGN section 8). The task is
    idempotent per date: one row, one e-mail per admin."""
    second_admin = user_create(
        username="jefe2",
        password="x-secreto-1",
        role=Role.ADMIN,
        email="jefe2@lab.example",
    )
    yesterday = timezone.localdate() - timedelta(days=1)
    protocol(vet_owner, history=[("received", at(yesterday, 11))])
    worker = worker_process(
        "daily", queues="default,emails", concurrency=2, EMAIL_URL=smtp_sink.url
    )
    manage("setup_periodic_tasks")  # 07:00: not due while the drill runs
    beats = [beat_process("beat-a"), beat_process("beat-b")]

    # The schedule moves to the next whole minute at least 12 s away, as an
    # admin would edit it (STATS_DAILY_AT, then setup_periodic_tasks). Both
    # running beats reload it (they poll the schedule every 5 s) and both
    # send the task at that minute.
    lab_now = datetime.now(ZoneInfo(settings.TIME_ZONE))
    due = (lab_now + timedelta(seconds=72)).replace(second=0, microsecond=0)
    manage("setup_periodic_tasks", STATS_DAILY_AT=due.strftime("%H:%M"))

    sent = f"Sending due task {DAILY} (patolab.stats.daily)"
    wait(
        lambda: all(log_count(beat.log, sent) >= 1 for beat in beats),
        timeout=150,
        interval=1,
    )
    # Both messages ran (in two pool processes), not one dropped by the broker.
    ran = re.compile(r"Task patolab\.stats\.daily\[[^\]]+\] succeeded")
    wait(lambda: len(ran.findall(worker.log.read_text())) >= 2, timeout=60)
    wait(lambda: len(smtp_sink.messages) >= 2, timeout=60)
    time.sleep(3)  # room for a wrongful third e-mail

    assert [log_count(beat.log, sent) for beat in beats] == [1, 1]
    assert DailyStatistics.objects.filter(date=yesterday).count() == 1
    figures = DailyStatistics.objects.get(date=yesterday).figures
    assert figures["protocols_received"] == 1
    logs = EmailLog.objects.filter(kind="daily_stats")
    assert logs.count() == 2
    assert set(logs.values_list("status", flat=True)) == {EmailStatus.SENT}
    assert sorted(m["X-Envelope-To"] for m in smtp_sink.messages) == sorted(
        [admin.email, second_admin.email]
    )
    assert all(yesterday.isoformat() in m["Subject"] for m in smtp_sink.messages)


# ---------------------------------------------------------------- SMTP 421
OUTAGE_SECONDS = 30


def test_smtp_answering_421_for_30_seconds_delays_mail_but_loses_and_doubles_none(
    worker_process, beat_process, smtp_sink, vet_owner, pathologist, wait
):
    """The mail server accepts connections but answers every MAIL FROM with 421
    for 30 s, then accepts. Reception and report e-mails (with their PDF) are
    retried on the shrunk schedule (backoff capped at 2 s), the e-mail sweeper
    runs from a real beat every 2 s and re-sends rows overdue by 5 s, and each
    message still arrives exactly once, none marked failed."""
    shrunk = {
        "EMAIL_URL": smtp_sink.url,
        "CELERY_RETRY_BACKOFF_MAX": "2",
        "EMAIL_SWEEP_EVERY_SECONDS": "2",
        "EMAIL_QUEUED_STALE_SECONDS": "5",
    }
    smtp_sink.refuse_mail = "421 4.3.2 Servicio no disponible, intente luego"
    # The production layout: e-mail on a thread-pool worker of its own.
    worker_process("mail", queues="emails", pool="threads", concurrency=8, **shrunk)
    manage("setup_periodic_tasks", **shrunk)
    beat_process("beat", **shrunk)

    logs = []
    with transaction.atomic():
        for n in range(10):
            protocol = make_received_protocol(vet_owner)
            logs.append(emails.protocol_received(protocol=protocol))
            report = make_finalized_report(
                make_received_protocol(vet_owner),
                pathologist,
                pdf=f"%PDF-1.4 informe {n}".encode(),
            )
            logs.append(
                emails.report_ready(
                    report=report,
                    pdf_path=report.pdf_file,
                    filename=f"informe-{n}.pdf",
                    sha256=report.pdf_sha256,
                )
            )
    ids = [log.pk for log in logs]
    rows = EmailLog.objects.filter(pk__in=ids)
    started = time.monotonic()
    failed_seen = 0
    while time.monotonic() - started < OUTAGE_SECONDS:
        failed_seen += rows.filter(status=EmailStatus.FAILED).count()
        time.sleep(1)

    # Throughout the outage (still on while this is checked): refused, retried,
    # never given up, nothing accepted.
    assert failed_seen == 0
    assert smtp_sink.messages == []
    assert smtp_sink.refused >= 2 * len(ids)
    assert all(attempts >= 2 for attempts in rows.values_list("attempts", flat=True))
    assert all("421" in error for error in rows.values_list("last_error", flat=True))
    smtp_sink.refuse_mail = ""  # the mail server is back

    wait(
        lambda: rows.filter(status=EmailStatus.SENT).count() == len(ids),
        timeout=120,
        interval=0.5,
    )
    wait(lambda: len(smtp_sink.messages) >= len(ids), timeout=30)
    time.sleep(8)  # room for a duplicate: retries and sweeps still pending

    assert len(smtp_sink.messages) == len(ids)
    received_ids = [m["Message-ID"] for m in smtp_sink.messages]
    expected_ids = {message_id_for(row.idempotency_key) for row in rows}
    assert sorted(received_ids) == sorted(expected_ids)
    assert set(rows.values_list("status", flat=True)) == {EmailStatus.SENT}
    pdfs = [
        part.get_payload(decode=True)
        for m in smtp_sink.messages
        for part in m.walk()
        if part.get_content_type() == "application/pdf"
    ]
    assert sorted(pdfs) == sorted(f"%PDF-1.4 informe {n}".encode() for n in range(10))
