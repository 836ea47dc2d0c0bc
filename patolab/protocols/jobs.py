"""Job kinds of the protocols app: their names (services import them from here)
and the handlers. Handlers import their service when they run, because the
services import these names."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy, gettext_noop

from patolab.core.documents import DocumentKind, document_build, register_document
from patolab.jobs.models import Job
from patolab.jobs.registry import register
from patolab.jobs.selectors import target_pk
from patolab.jobs.services import Progress

from . import slip
from .documents import (
    slip_document_data,
    slip_filename,
    slip_storage_path,
    slip_stored,
)
from .models import Protocol, SubmissionSlip

BULK_STATUS = "protocols.bulk_status"
SLIP_GENERATE = "protocols.slip"
SLIP_DOCUMENT = "slip"
# Handled by the labels app (a higher floor): the reception service starts the
# job, or renders in place through the document registry, by these names, so
# protocols never imports labels.
LABELS_GENERATE = "labels.generate"
LABELS_DOCUMENT = "labels"
# Batch reception (a courier box): handled by the labels app, which receives each
# protocol through the reception service and renders one PDF for the whole box.
RECEIVE_BATCH = "protocols.receive_batch"


@register(
    BULK_STATUS,
    queue="bulk",
    max_attempts=3,
    title=gettext_noop("Cambio de estado masivo"),
)
def bulk_status(job: Job, progress: Progress) -> dict[str, Any]:
    """Thin handler: the service does the per-protocol work."""
    from .services.bulk import protocol_bulk_status_run

    params = job.params
    return protocol_bulk_status_run(
        protocol_ids=[int(pk) for pk in params.get("protocol_ids", [])],
        status=str(params.get("status", "")),
        note=str(params.get("note", "")),
        user=job.requested_by,
        progress=progress,
    )


def _slip_target(user: Any, pk: str) -> Protocol:
    from .selectors import protocol_slip_get_for

    return protocol_slip_get_for(user=user, pk=pk)


# The submission slip: the fourth kind of the one document pipeline.
SLIP: DocumentKind[Protocol, SubmissionSlip] = register_document(
    DocumentKind(
        name=SLIP_DOCUMENT,
        job_kind=SLIP_GENERATE,
        model=SubmissionSlip,
        owner="protocol",
        data=slip_document_data,
        render=slip.render_submission_slip,
        renderer_version=lambda: slip.RENDERER_VERSION,
        path=slip_storage_path,
        filename=slip_filename,
        get_for=_slip_target,
        url_name="protocols:protocol-slip",
        heading=gettext_lazy("Comprobante de remisión"),
        pending_text=gettext_lazy("Generando el comprobante…"),
        download_text=gettext_lazy("Descargar comprobante (PDF)"),
        replace=True,
        find=slip_stored,
    )
)


@register(
    SLIP_GENERATE,
    queue="pdf_generation",
    retry_on=(OSError,),
    max_attempts=5,
    title=gettext_noop("Comprobante de remisión"),
)
def slip_generate(job: Job, progress: Progress) -> dict[str, Any]:
    """Render and store one protocol's submission slip (no-op when current)."""
    protocol = Protocol.objects.select_related("veterinarian", "submission_slip").get(
        pk=target_pk(job)
    )
    document = document_build(SLIP, protocol)
    progress(1, 1)
    return {
        "file_url": reverse(SLIP.url_name, kwargs={"pk": protocol.pk}),
        "sha256": document.sha256,
    }
