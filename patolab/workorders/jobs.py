"""Job kinds of the work-orders app: their names, the work-order PDF document
kind of the one pipeline, and its short handler."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy, gettext_noop

from patolab.core.documents import DocumentKind, document_build, register_document
from patolab.jobs.models import Job
from patolab.jobs.registry import register
from patolab.jobs.selectors import target_pk
from patolab.jobs.services import Progress

from . import pdf
from .documents import (
    WORKORDER_PRINTED,
    workorder_document_data,
    workorder_pdf_filename,
    workorder_storage_path,
)
from .models import WorkOrder, WorkOrderPdf
from .selectors import workorder_for_document, workorder_get_for, workorder_pdf_probe

WORKORDER_PDF = "workorder.pdf"

WORKORDER_DOCUMENT: DocumentKind[WorkOrder, WorkOrderPdf] = register_document(
    DocumentKind(
        name="workorder",
        job_kind=WORKORDER_PDF,
        model=WorkOrderPdf,
        owner="work_order",
        data=workorder_document_data,
        render=pdf.render_work_order,
        renderer_version=lambda: pdf.RENDERER_VERSION,
        path=workorder_storage_path,
        filename=workorder_pdf_filename,
        get_for=lambda user, pk: workorder_get_for(user=user, pk=pk),
        url_name="workorders:pdf",
        heading=gettext_lazy("PDF"),
        pending_text=gettext_lazy("Generando PDF…"),
        download_text=gettext_lazy("Descargar PDF"),
        printed=WORKORDER_PRINTED,
        probe=lambda user, pk: workorder_pdf_probe(user=user, pk=pk),
        load=lambda pk: workorder_for_document(pk=pk),
    )
)


@register(
    WORKORDER_PDF,
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
    document = document_build(WORKORDER_DOCUMENT, work_order)
    return {
        "file_url": reverse(WORKORDER_DOCUMENT.url_name, kwargs={"pk": work_order.pk}),
        "fingerprint": document.fingerprint,
        "sha256": document.sha256,
        "size": document.size,
    }
