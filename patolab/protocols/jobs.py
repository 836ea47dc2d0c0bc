"""Job kinds of the protocols app (labels live in patolab.labels)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_noop

from patolab.jobs.models import Job
from patolab.jobs.registry import register
from patolab.jobs.services import Progress

from .services.bulk import BULK_STATUS_KIND, protocol_bulk_status_run


@register(
    BULK_STATUS_KIND,
    queue="bulk",
    max_attempts=3,
    title=gettext_noop("Cambio de estado masivo"),
)
def bulk_status(job: Job, progress: Progress) -> dict[str, Any]:
    """Thin handler: the service does the per-protocol work."""
    params = job.params
    return protocol_bulk_status_run(
        protocol_ids=[int(pk) for pk in params.get("protocol_ids", [])],
        status=str(params.get("status", "")),
        note=str(params.get("note", "")),
        user=job.requested_by,
        progress=progress,
    )
