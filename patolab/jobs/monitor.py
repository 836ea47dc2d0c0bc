"""Read-only figures for the admins' job monitor page."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, cast

from celery import current_app
from django.conf import settings
from django.db.models import Count, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import Job, JobState

if TYPE_CHECKING:
    from kombu.transport.virtual import Channel as VirtualChannel


# What each queue is for, in the words of the people reading the monitor.
QUEUE_TITLES = {
    "pdf_generation": _("Trabajo de los usuarios (etiquetas, informes, órdenes)"),
    "emails": _("E-mails"),
    "bulk": _("Trabajo por lotes (acciones masivas, lotes, regeneraciones)"),
    "default": _("General"),
}


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
            # Redis and the embedded broker are kombu virtual channels (the
            # embedded one counts only waiting messages, see core/broker.py);
            # the generic channel type lacks `queue_declare`.
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
        row["title"] = QUEUE_TITLES.get(str(row["name"]), row["name"])
        row["queued"] = by_queue.get(row["name"], 0)
        row["running"] = running.get(row["name"], 0)
    return rows


def recent_failures(days: int = 7) -> QuerySet[Job]:
    since = timezone.now() - timedelta(days=days)
    return Job.objects.filter(
        state=JobState.FAILED, created_at__gte=since
    ).select_related("requested_by")[:50]
