"""Job kinds of the reports app (auto-imported by the jobs app)."""

from __future__ import annotations

import smtplib
from typing import Any

from django.utils.translation import gettext_noop

from patolab.jobs.models import Job
from patolab.jobs.registry import register
from patolab.jobs.selectors import target_pk
from patolab.jobs.services import Progress

from .services import (
    FINALIZE_KIND,
    REGENERATE_KIND,
    report_finalize_execute,
    report_regenerate_execute,
)


@register(
    FINALIZE_KIND,
    queue="pdf_generation",
    # Storage (OSError) and mail-server hiccups are transient: retry with backoff.
    retry_on=(OSError, smtplib.SMTPException),
    title=gettext_noop("Finalización del informe"),
)
def report_finalize(job: Job, progress: Progress) -> dict[str, Any]:
    """Render, store, e-mail and close one report. Idempotent (see service)."""
    return report_finalize_execute(report_id=int(target_pk(job)), user=job.requested_by)


@register(
    REGENERATE_KIND,
    queue="bulk",
    title=gettext_noop("Regeneración de PDFs de informes"),
)
def reports_regenerate(job: Job, progress: Progress) -> dict[str, Any]:
    """Re-render many reports with per-item errors and bounded progress."""
    return report_regenerate_execute(job=job, progress=progress)
