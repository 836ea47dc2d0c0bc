"""Job kinds of the work-orders app."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_noop

from patolab.jobs.models import Job
from patolab.jobs.registry import register
from patolab.jobs.selectors import target_pk
from patolab.jobs.services import Progress

from .documents import PDF_JOB_KIND, workorder_pdf_build
from .selectors import workorder_for_document


@register(
    PDF_JOB_KIND,
    queue="pdf_generation",
    retry_on=(OSError,),
    max_attempts=5,
    title=gettext_noop("PDF de la orden de trabajo"),
)
def workorder_pdf(job: Job, progress: Progress) -> dict[str, Any]:
    """Render the PDF of the work order *as it is now* (the fingerprint in the
    params is informational: data may have changed since the job started, and
    the current data is what must be cached). Storage errors retry."""
    work_order = workorder_for_document(pk=target_pk(job))
    pdf = workorder_pdf_build(work_order=work_order)
    return {
        "file_url": reverse("workorders:pdf", kwargs={"pk": work_order.pk}),
        "fingerprint": pdf.fingerprint,
        "sha256": pdf.sha256,
        "size": pdf.size,
    }
