"""Template helpers for job pages: the kind's Spanish title."""

from __future__ import annotations

from typing import Any

from django import template

from patolab.jobs.registry import kind_title

register = template.Library()


@register.filter
def job_title(kind: str) -> str:
    """`{{ job.kind|job_title }}` → "Lote de etiquetas", never "labels.batch"."""
    return kind_title(kind)


@register.filter
def any_active(jobs: list[Any]) -> bool:
    """True while any of `jobs` is queued or running (keep polling)."""
    return any(job.is_active for job in jobs)
