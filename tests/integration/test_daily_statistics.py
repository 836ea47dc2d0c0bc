"""Daily statistics with a real worker, the real broker and a real SMTP sink."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from patolab.accounts.models import Role
from patolab.accounts.services import user_create
from patolab.jobs.models import Job
from patolab.notifications.models import EmailLog
from patolab.stats.models import DailyStatistics
from patolab.stats.services import daily_statistics_run_scheduled
from patolab.stats.tasks import stats_daily
from patolab.stats.tests.factories import at, protocol

pytestmark = pytest.mark.integration


def test_the_daily_task_run_twice_stores_one_row_and_mails_each_admin_once(
    celery_worker, smtp_sink, admin, vet_owner, wait
):
    yesterday = timezone.localdate() - timedelta(days=1)
    protocol(
        vet_owner,
        history=[("submitted", at(yesterday, 9)), ("received", at(yesterday, 11))],
    )
    stats_daily.delay()
    stats_daily.delay()  # beat twice (or a redelivery): still one e-mail
    wait(lambda: EmailLog.objects.filter(kind="daily_stats", status="sent").exists())
    wait(lambda: len(smtp_sink.messages) >= 1)
    stats_daily.delay(yesterday.isoformat())
    wait(lambda: DailyStatistics.objects.filter(date=yesterday).exists())
    time.sleep(1.5)  # give a wrongful second e-mail the time to arrive
    assert len(smtp_sink.messages) == 1
    [msg] = smtp_sink.messages
    assert msg["X-Envelope-To"] == admin.email
    assert yesterday.isoformat() in msg["Subject"]
    text = msg.get_payload(0).get_payload(decode=True).decode()
    assert "Muestras recibidas: 1" in text
    assert (
        DailyStatistics.objects.get(date=yesterday).figures["protocols_received"] == 1
    )


def test_beat_started_twice_runs_the_daily_statistics_once_per_date(
    celery_worker, smtp_sink, admin, vet_owner, wait
):
    """Two beats by mistake: two runs for the same date at the same moment, each
    in its own transaction. One row, and one e-mail per admin."""
    second_admin = user_create(
        username="jefe2",
        password="x-secreto-1",
        role=Role.ADMIN,
        email="jefe2@lab.example",
    )
    yesterday = timezone.localdate() - timedelta(days=1)
    protocol(vet_owner, history=[("received", at(yesterday, 11))])
    barrier = threading.Barrier(2)
    results: list[dict] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            results.append(daily_statistics_run_scheduled(day=yesterday))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert [r["date"] for r in results] == [yesterday.isoformat()] * 2
    assert DailyStatistics.objects.filter(date=yesterday).count() == 1
    assert EmailLog.objects.filter(kind="daily_stats").count() == 2
    wait(lambda: len(smtp_sink.messages) >= 2)
    time.sleep(1.5)  # give a wrongful third e-mail the time to arrive
    assert sorted(m["X-Envelope-To"] for m in smtp_sink.messages) == sorted(
        [admin.email, second_admin.email]
    )
    figures = DailyStatistics.objects.get(date=yesterday).figures
    assert figures["protocols_received"] == 1


def test_recompute_job_stores_every_day_of_the_range_with_progress(
    celery_worker, login, admin, vet_owner, wait
):
    today = timezone.localdate()
    first, last = today - timedelta(days=5), today - timedelta(days=1)
    protocol(vet_owner, history=[("received", at(first, 10))])
    response = login(admin).post(
        "/estadisticas/recalcular/",
        {"first": first.isoformat(), "last": last.isoformat()},
    )
    assert response.status_code == 302
    job = Job.objects.get(kind="stats.recompute")
    assert response["Location"] == f"/trabajos/{job.pk}/"
    wait(lambda: Job.objects.get(pk=job.pk).state == "succeeded", timeout=60)
    job.refresh_from_db()
    assert (job.progress_current, job.progress_total) == (5, 5)
    assert DailyStatistics.objects.filter(date__range=(first, last)).count() == 5
    assert DailyStatistics.objects.get(date=first).figures["protocols_received"] == 1
    assert not EmailLog.objects.filter(kind="daily_stats").exists()
