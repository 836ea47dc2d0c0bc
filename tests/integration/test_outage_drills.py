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
from django.conf import settings
from django.utils import timezone

from conftest import ROOT, subprocess_env
from patolab.accounts.models import Role
from patolab.accounts.services import user_create
from patolab.notifications.models import EmailLog, EmailStatus
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
