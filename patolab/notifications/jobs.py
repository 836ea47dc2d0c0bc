"""Job kinds of the notifications app."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_noop

from patolab.jobs.models import Job
from patolab.jobs.registry import register
from patolab.jobs.services import Progress

from .services import BULK_KIND, notifications_bulk_run


@register(
    BULK_KIND,
    queue="bulk",
    max_attempts=3,
    title=gettext_noop("Envío masivo de e-mails"),
)
def bulk_notify(job: Job, progress: Progress) -> dict[str, Any]:
    """Thin handler: the service queues one e-mail per protocol."""
    return notifications_bulk_run(
        job_id=str(job.pk),
        protocol_ids=[int(pk) for pk in job.params.get("protocol_ids", [])],
        email_type=str(job.params.get("email_type", "")),
        progress=progress,
    )
