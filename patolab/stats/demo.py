"""Demo statistics: the stored daily rows for the days the demo lab has data
(at most the last 365), so the statistics page has something to draw on the
first `make run`. Idempotent: recomputing a day replaces its row."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Min
from django.utils import timezone

from patolab.protocols.models import Protocol

from .services import daily_statistics_store


def seed(stdout: Any) -> None:
    first = Protocol.objects.aggregate(first=Min("submitted_at"))["first"]
    yesterday = timezone.localdate() - timedelta(days=1)
    if first is None:
        return
    day = max(timezone.localdate(first), yesterday - timedelta(days=364))
    count = 0
    while day <= yesterday:
        daily_statistics_store(day=day)
        day += timedelta(days=1)
        count += 1
    stdout.write(f"Demo statistics ready: {count} days stored.")
