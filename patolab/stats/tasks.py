from __future__ import annotations

from datetime import date
from typing import Any

from celery import shared_task

from .services import daily_statistics_run_scheduled


@shared_task(name="patolab.stats.daily", acks_late=True, reject_on_worker_lost=True)
def stats_daily(day: str | None = None) -> dict[str, Any]:
    """Beat (07:00 lab time): store yesterday's figures (or `day`, ISO) and
    e-mail the admins once per date. Idempotent, so redelivery is harmless."""
    return daily_statistics_run_scheduled(day=date.fromisoformat(day) if day else None)
