"""Declare every beat schedule in one place (idempotent). Run once per deploy;
schedules stay editable in the admin afterwards."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask


def interval_task(name: str, task: str, seconds: int, queue: str = "default") -> None:
    schedule, _ = IntervalSchedule.objects.get_or_create(
        every=seconds, period=IntervalSchedule.SECONDS
    )
    PeriodicTask.objects.update_or_create(
        name=name,
        defaults={"task": task, "interval": schedule, "crontab": None, "queue": queue},
    )


def crontab_task(
    name: str, task: str, *, minute: str, hour: str, queue: str = "default"
) -> None:
    schedule, _ = CrontabSchedule.objects.get_or_create(
        minute=minute,
        hour=hour,
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone=settings.TIME_ZONE,
    )
    PeriodicTask.objects.update_or_create(
        name=name,
        defaults={"task": task, "crontab": schedule, "interval": None, "queue": queue},
    )


def schedules() -> list[dict[str, Any]]:
    """The schedules, from the settings in force when the command runs."""
    hour, minute = settings.STATS_DAILY_AT
    return [
        {
            "name": "Barrido de trabajos trabados",
            "task": "patolab.jobs.sweep",
            "seconds": settings.JOBS_SWEEP_EVERY_SECONDS,
        },
        {
            "name": "Barrido de e-mails trabados",
            "task": "patolab.notifications.sweep",
            "seconds": settings.EMAIL_SWEEP_EVERY_SECONDS,
            "queue": "emails",
        },
        {
            # Yesterday's figures and the admins' summary, 07:00 lab time
            # unless STATS_DAILY_AT says otherwise.
            "name": "Estadísticas diarias",
            "task": "patolab.stats.daily",
            "minute": str(minute),
            "hour": str(hour),
        },
        {
            "name": "Limpieza de exportaciones vencidas",
            "task": "patolab.exports.cleanup",
            "seconds": 3600,
        },
    ]


class Command(BaseCommand):
    help = "Create or update the periodic (beat) tasks."

    def handle(self, *args: Any, **options: Any) -> None:
        entries = schedules()
        for entry in entries:
            if "seconds" in entry:
                interval_task(
                    entry["name"],
                    entry["task"],
                    entry["seconds"],
                    entry.get("queue", "default"),
                )
            else:
                crontab_task(
                    entry["name"],
                    entry["task"],
                    minute=entry["minute"],
                    hour=entry["hour"],
                    queue=entry.get("queue", "default"),
                )
        self.stdout.write(f"{len(entries)} periodic tasks configured.")
