"""Job kinds of the labels app (auto-imported by the jobs app): their names,
the label document kind of the one pipeline, and the two short handlers."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from patolab.core.documents import DocumentKind, document_build, register_document
from patolab.jobs.models import Job
from patolab.jobs.registry import register
from patolab.jobs.selectors import target_pk
from patolab.jobs.services import Progress
from patolab.protocols.jobs import LABELS_DOCUMENT, LABELS_GENERATE, RECEIVE_BATCH
from patolab.protocols.models import Protocol

from . import render
from .documents import (
    LABEL_PRINTED,
    label_batch_build,
    label_document_data,
    label_filename,
    label_storage_path,
    label_stored,
)
from .models import LabelDocument
from .selectors import label_pdf_probe, label_protocol_get, label_protocol_get_for

# Sent by name by the reception service (protocols sits below labels).
__all__ = ["LABELS_BATCH", "LABELS_GENERATE", "LABEL_DOCUMENT"]
LABELS_BATCH = "labels.batch"

LABEL_DOCUMENT: DocumentKind[Protocol, LabelDocument] = register_document(
    DocumentKind(
        name=LABELS_DOCUMENT,
        job_kind=LABELS_GENERATE,
        model=LabelDocument,
        owner="protocol",
        data=label_document_data,
        render=lambda data: render.render_labels([data]),
        renderer_version=lambda: render.RENDERER_VERSION,
        path=label_storage_path,
        filename=label_filename,
        get_for=lambda user, pk: label_protocol_get_for(user=user, pk=pk),
        url_name="labels:protocol-pdf",
        pending_text=gettext_lazy("Generando etiquetas…"),
        download_text=gettext_lazy("Descargar etiquetas"),
        replace=True,
        find=label_stored,
        row_fields=lambda data: {"pages": data.containers},
        printed=LABEL_PRINTED,
        probe=lambda user, pk: label_pdf_probe(user=user, pk=pk),
        load=lambda pk: label_protocol_get(pk=pk),
    )
)


@register(
    LABELS_GENERATE,
    queue="pdf_generation",
    retry_on=(OSError,),
    max_attempts=5,
    title=gettext_noop("Etiquetas del protocolo"),
)
def labels_generate(job: Job, progress: Progress) -> dict[str, Any]:
    """Render and store one protocol's labels (no-op when already current)."""
    protocol = Protocol.objects.select_related("reception", "label_document").get(
        pk=target_pk(job)
    )
    doc = document_build(LABEL_DOCUMENT, protocol)
    progress(1, 1)
    return {
        "file_url": reverse(LABEL_DOCUMENT.url_name, kwargs={"pk": protocol.pk}),
        "sha256": doc.sha256,
        "pages": doc.pages,
    }


# Batches are batch work: they must never delay a user's single label or a
# report finalization, so they go to `bulk`, not the user-facing queue.
@register(
    LABELS_BATCH,
    queue="bulk",
    retry_on=(OSError,),
    max_attempts=5,
    title=gettext_noop("Lote de etiquetas"),
)
def labels_batch(job: Job, progress: Progress) -> dict[str, Any]:
    """One PDF with the labels of many protocols; per-item errors in `items`."""
    batch, items = label_batch_build(
        job_id=job.pk,
        protocol_ids=[int(pk) for pk in job.params.get("protocol_ids", [])],
        user_id=job.requested_by_id,
        progress=progress,
    )
    failed = sum(1 for item in items if not item["ok"])
    result: dict[str, Any] = {
        "succeeded": len(items) - failed,
        "failed": failed,
        "items": items,
    }
    if batch is None:
        result["message"] = _(
            "Ninguno de los protocolos tiene etiquetas para imprimir."
        )
        return result
    result["file_url"] = reverse("labels:batch-download", kwargs={"pk": batch.pk})
    result["pages"] = batch.pages
    result["message"] = _("%(pages)s etiquetas de %(count)s protocolos.") % {
        "pages": batch.pages,
        "count": result["succeeded"],
    }
    return result


# A courier box is someone at the reception bench waiting: user-facing queue
# (at most 200 items of a few ms each; the user worker has two slots).
@register(
    RECEIVE_BATCH,
    queue="pdf_generation",
    retry_on=(OSError,),
    max_attempts=3,
    title=gettext_noop("Recepción por lote"),
)
def receive_batch(job: Job, progress: Progress) -> dict[str, Any]:
    """Receive each scanned protocol (the protocols service), then one PDF with
    the labels of the whole box."""
    from patolab.protocols.services import protocol_receive_batch_run

    result = protocol_receive_batch_run(job=job, progress=progress)
    received = [item["id"] for item in result["items"] if item["ok"]]
    result["labels_url"] = None
    if received:
        batch, _items = label_batch_build(
            job_id=job.pk,
            protocol_ids=received,
            user_id=job.requested_by_id,
            progress=lambda *args, **kwargs: None,
        )
        if batch is not None:
            url = reverse("labels:batch-download", kwargs={"pk": batch.pk})
            result["labels_url"] = result["file_url"] = url
            result["file_label"] = _("Descargar las etiquetas de la caja (%(n)d)") % {
                "n": batch.pages
            }
    return result
