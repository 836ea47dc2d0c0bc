from __future__ import annotations

from typing import Any

from django.urls import reverse

from .models import Job


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


def job_to_dict(job: Job) -> dict[str, Any]:
    """The API.md job object (plus `kind_title`-free extras kept minimal)."""
    return {
        "id": str(job.pk),
        "kind": job.kind,
        "state": job.state,
        "progress": {"current": job.progress_current, "total": job.progress_total},
        "result": job.result,
        "error": job.error or None,
        "attempts": job.attempts,
        "created_at": _iso(job.created_at),
        "started_at": _iso(job.started_at),
        "finished_at": _iso(job.finished_at),
        "url": reverse("api:job_get", kwargs={"job_id": job.pk}),
        "page_url": reverse("jobs:detail", kwargs={"pk": job.pk}),
    }
