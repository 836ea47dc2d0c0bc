"""Job kinds of the protocols app: their names (services import them from here)
and the handlers. Handlers import their service when they run, because the
services import these names."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_noop

from patolab.jobs.models import Job
from patolab.jobs.registry import register
from patolab.jobs.services import Progress

BULK_STATUS = "protocols.bulk_status"
# Handled by the labels app (a higher floor): the reception service starts the
# job, or renders in place through the document registry, by these names, so
# protocols never imports labels.
LABELS_GENERATE = "labels.generate"
LABELS_DOCUMENT = "labels"


@register(
    BULK_STATUS,
    queue="bulk",
    max_attempts=3,
    title=gettext_noop("Cambio de estado masivo"),
)
def bulk_status(job: Job, progress: Progress) -> dict[str, Any]:
    """Thin handler: the service does the per-protocol work."""
    from .services.bulk import protocol_bulk_status_run

    params = job.params
    return protocol_bulk_status_run(
        protocol_ids=[int(pk) for pk in params.get("protocol_ids", [])],
        status=str(params.get("status", "")),
        note=str(params.get("note", "")),
        user=job.requested_by,
        progress=progress,
    )
