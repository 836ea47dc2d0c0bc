"""Template helpers for job pages: the kind's Spanish title."""

from __future__ import annotations

from django import template

from patolab.jobs.registry import kind_title

register = template.Library()


@register.filter
def job_title(kind: str) -> str:
    """`{{ job.kind|job_title }}` → "Lote de etiquetas", never "labels.batch"."""
    return kind_title(kind)
