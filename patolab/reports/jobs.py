"""Job kinds of the reports app: their names (services import them from
here), the report PDF document kind of the one pipeline, and the handlers.
Handlers import their service when they run, because the services import the
names defined here."""

from __future__ import annotations

import smtplib
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from patolab.core.documents import DocumentKind, register_document
from patolab.core.errors import Conflict
from patolab.jobs.models import ACTIVE_STATES, Job
from patolab.jobs.registry import register
from patolab.jobs.selectors import job_active_for, target_pk
from patolab.jobs.services import Progress

from . import pdf
from .documents import (
    REPORT_PRINTED,
    report_document_data,
    report_download_name,
    report_storage_path,
)
from .models import Report, ReportPdf, ReportStatus
from .selectors import (
    report_get_for_document,
    report_get_for_download,
    report_pdf_probe,
)

REPORT_FINALIZE = "report.finalize"
REPORTS_REGENERATE = "reports.regenerate"
# Re-render one finalized report whose stored PDF is stale (its fingerprint is
# not the report's current one), started by a GET of its PDF.
REPORT_PDF = "report.pdf"
# Re-send reception or report e-mails for many protocols (see `resend.py`).
NOTIFICATIONS_BULK = "notifications.bulk"
# Put many failed e-mails back in the outbox (the EmailLog admin's bulk action).
NOTIFICATIONS_RESEND_FAILED = "notifications.resend_failed"


def report_pdf_producing_job(report: Report) -> Job | None:
    """The finalization producing this report's PDF right now, or None (no
    query unless the report is finalizing). A draft has no PDF (409), nor has a
    finalization that stopped without one (409)."""
    if report.status == ReportStatus.DRAFT:
        raise Conflict(
            _("El informe es un borrador: todavía no tiene PDF."), code="report_draft"
        )
    if report.status == ReportStatus.FINALIZING or not report.pdf_file:
        job = job_active_for(kind=REPORT_FINALIZE, target=report)
        if job is None:
            raise Conflict(
                _("La finalización del informe no terminó; vuelva a finalizarlo."),
                code="report_pdf_unavailable",
            )
        return job
    return None


def report_pdf_regeneration_job(report: Report) -> Job | None:
    """A bulk regeneration covering this report, asked only when the report has
    no current file (a finalized report's current file is served while a
    regeneration runs: the regeneration would store the same content)."""
    # Regeneration jobs have no per-report target; there are few active ones,
    # so checking their parameters in Python works on every database.
    for job in Job.objects.filter(kind=REPORTS_REGENERATE, state__in=ACTIVE_STATES):
        ids = job.params.get("report_ids") or []
        if job.params.get("all") or report.pk in ids:
            return job
    return None


def report_pdf_stored(report: Report, fingerprint: str) -> ReportPdf | None:
    """The report's current file (the one the report points at) if it was made
    from the report's data as it is now."""
    if not report.pdf_sha256:
        return None
    return (
        ReportPdf.objects.filter(
            report=report, sha256=report.pdf_sha256, fingerprint=fingerprint
        )
        .order_by("-created_at")
        .first()
    )


REPORT_DOCUMENT: DocumentKind[Report, ReportPdf] = register_document(
    DocumentKind(
        name="report",
        job_kind=REPORT_PDF,
        model=ReportPdf,
        owner="report",
        data=report_document_data,
        render=pdf.render_report,
        renderer_version=lambda: pdf.RENDERER_VERSION,
        path=report_storage_path,
        filename=report_download_name,
        get_for=lambda user, pk: report_get_for_download(user=user, pk=pk),
        url_name="reports:pdf",
        pending_text=gettext_lazy("Generando el PDF del informe…"),
        download_text=gettext_lazy("Descargar PDF"),
        unique_by="sha256",
        find=report_pdf_stored,
        producing=report_pdf_producing_job,
        covering=report_pdf_regeneration_job,
        printed=REPORT_PRINTED,
        probe=lambda user, pk: report_pdf_probe(user=user, pk=pk),
        load=report_get_for_document,
    )
)


@register(
    REPORT_FINALIZE,
    queue="pdf_generation",
    # Storage (OSError) and mail-server hiccups are transient: retry with backoff.
    retry_on=(OSError, smtplib.SMTPException),
    title=gettext_noop("Finalización del informe"),
)
def report_finalize(job: Job, progress: Progress) -> dict[str, Any]:
    """Render, store, e-mail and close one report. Idempotent (see service)."""
    from .services import report_finalize_execute

    return report_finalize_execute(
        report_id=int(target_pk(job)), user_id=job.requested_by_id
    )


@register(
    REPORTS_REGENERATE,
    queue="bulk",
    title=gettext_noop("Regeneración de PDFs de informes"),
)
def reports_regenerate(job: Job, progress: Progress) -> dict[str, Any]:
    """Re-render many reports with per-item errors and bounded progress."""
    from .services import report_regenerate_execute

    return report_regenerate_execute(job=job, progress=progress)


@register(
    REPORT_PDF,
    queue="pdf_generation",
    retry_on=(OSError,),
    title=gettext_noop("PDF del informe"),
)
def report_pdf(job: Job, progress: Progress) -> dict[str, Any]:
    """Re-render one report whose stored PDF is stale (no-op when current)."""
    from .services import report_regenerate_one

    report_id = int(target_pk(job))
    outcome = report_regenerate_one(report_id=report_id, only_if_stale=True)
    report = Report.objects.only("pdf_sha256").get(pk=report_id)
    return {
        "file_url": reverse(REPORT_DOCUMENT.url_name, kwargs={"pk": report_id}),
        "sha256": report.pdf_sha256,
        "outcome": outcome,
    }


@register(
    NOTIFICATIONS_BULK,
    queue="bulk",
    max_attempts=3,
    title=gettext_noop("Envío masivo de e-mails"),
)
def notifications_bulk(job: Job, progress: Progress) -> dict[str, Any]:
    """Thin handler: the service queues one e-mail per protocol."""
    from .resend import notifications_bulk_run

    return notifications_bulk_run(
        job_id=str(job.pk),
        protocol_ids=[int(pk) for pk in job.params.get("protocol_ids", [])],
        email_type=str(job.params.get("email_type", "")),
        progress=progress,
    )


@register(
    NOTIFICATIONS_RESEND_FAILED,
    queue="bulk",
    max_attempts=3,
    title=gettext_noop("Reenvío de e-mails fallidos"),
)
def notifications_resend_failed(job: Job, progress: Progress) -> dict[str, Any]:
    """Thin handler: the service re-queues each selected failed e-mail."""
    from .resend import email_logs_resend_run

    return email_logs_resend_run(
        log_ids=[int(pk) for pk in job.params.get("log_ids", [])], progress=progress
    )
