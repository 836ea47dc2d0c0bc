"""Read-only figures for the admins' job monitor page."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, cast

from celery import current_app
from django.conf import settings
from django.db.models import Count, QuerySet
from django.utils import timezone

from .models import Job, JobState

if TYPE_CHECKING:
    from kombu.transport.virtual import Channel as VirtualChannel


def queue_depths() -> list[dict[str, object]]:
    """Messages waiting per queue (None when the broker cannot be asked), next to
    the Job table's own counts."""
    by_queue = dict(
        Job.objects.filter(state=JobState.QUEUED)
        .values_list("queue")
        .annotate(n=Count("pk"))
    )
    running = dict(
        Job.objects.filter(state=JobState.RUNNING)
        .values_list("queue")
        .annotate(n=Count("pk"))
    )
    rows: list[dict[str, object]] = []
    try:
        with current_app.connection_for_read() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            # Our broker is Redis, whose channels are kombu virtual channels; the
            # generic channel type lacks `queue_declare`.
            channel = cast("VirtualChannel", conn.default_channel)
            for name in settings.PATOLAB_QUEUES:
                try:
                    depth: int | None = channel.queue_declare(
                        queue=name, passive=True
                    ).message_count
                except Exception:
                    depth = None
                rows.append({"name": name, "broker": depth})
    except Exception:
        rows = [{"name": name, "broker": None} for name in settings.PATOLAB_QUEUES]
    for row in rows:
        row["queued"] = by_queue.get(row["name"], 0)
        row["running"] = running.get(row["name"], 0)
    return rows


def recent_failures(days: int = 7) -> QuerySet[Job]:
    since = timezone.now() - timedelta(days=days)
    return Job.objects.filter(
        state=JobState.FAILED, created_at__gte=since
    ).select_related("requested_by")[:50]
