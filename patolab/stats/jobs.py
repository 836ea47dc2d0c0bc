"""Job kinds of the statistics app (auto-imported by the jobs app)."""

from __future__ import annotations

from typing import Any

from patolab.jobs.models import Job
from patolab.jobs.registry import register
from patolab.jobs.services import Progress

RECOMPUTE_KIND = "stats.recompute"


# Batch work: `bulk`, so it never occupies the worker people wait on.
@register(RECOMPUTE_KIND, queue="bulk", title="Recalcular estadísticas")
def stats_recompute(job: Job, progress: Progress) -> dict[str, Any]:
    """Recompute and store a range of days (see the service)."""
    # Imported here: the services module imports this one for the kind name.
    from .services import daily_statistics_recompute_execute

    return daily_statistics_recompute_execute(job=job, progress=progress)
