"""Job kinds of the exports app (auto-imported by the jobs app)."""

from __future__ import annotations

from typing import Any

from patolab.jobs.models import Job
from patolab.jobs.registry import register
from patolab.jobs.services import Progress

EXPORT_KIND = "exports.generate"


@register(EXPORT_KIND, queue="bulk", retry_on=(OSError,), title="Exportación")
def export_generate(job: Job, progress: Progress) -> dict[str, Any]:
    """Write the export file, store it and e-mail the link (see the service)."""
    # Imported here: the services module imports this one for the kind name.
    from .services import export_generate_execute

    return export_generate_execute(job=job, progress=progress)
