"""Job kinds of the jobs app itself."""

from __future__ import annotations

import socket
import time
from typing import Any

from django.utils.translation import gettext_noop

from .models import Job
from .registry import register
from .services import RETRY_MANY_KIND, Progress, jobs_retry_many_run

SELFTEST = "system.selftest"


@register(SELFTEST, queue="default", title=gettext_noop("Prueba de workers"))
def selftest(job: Job, progress: Progress) -> dict[str, Any]:
    """Sleep in steps with progress: proves a worker picks up and finishes jobs."""
    steps = max(1, min(int(job.params.get("steps", 5)), 600))
    delay = max(0.0, min(float(job.params.get("delay", 0.2)), 10.0))
    progress(0, steps, force=True)
    for step in range(1, steps + 1):
        time.sleep(delay)
        progress(step, steps)
    return {"message": f"OK desde {socket.gethostname()}", "steps": steps}


@register(
    RETRY_MANY_KIND,
    queue="bulk",
    max_attempts=3,
    title=gettext_noop("Reintento de trabajos fallidos"),
)
def retry_failed(job: Job, progress: Progress) -> dict[str, Any]:
    """Thin handler: retry each selected failed job."""
    return jobs_retry_many_run(
        job_ids=[str(pk) for pk in job.params.get("job_ids", [])],
        user=job.requested_by,
        progress=progress,
    )
