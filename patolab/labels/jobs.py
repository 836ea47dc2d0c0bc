"""Job kinds of the labels app (auto-imported by the jobs app)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from patolab.jobs.models import Job
from patolab.jobs.registry import register
from patolab.jobs.services import Progress, target_pk
from patolab.protocols.models import Protocol

from .services import label_batch_build, label_document_generate


@register(
    "labels.generate",
    queue="pdf_generation",
    retry_on=(OSError,),
    max_attempts=5,
    title=gettext_noop("Etiquetas del protocolo"),
)
def labels_generate(job: Job, progress: Progress) -> dict[str, Any]:
    """Render and store one protocol's labels (no-op when already current)."""
    protocol = Protocol.objects.select_related("reception").get(pk=target_pk(job))
    doc = label_document_generate(protocol=protocol)
    progress(1, 1)
    return {
        "file_url": reverse("labels:protocol-pdf", kwargs={"pk": protocol.pk}),
        "sha256": doc.sha256,
        "pages": doc.pages,
    }


# Batches are batch work: they must never delay a user's single label or a
# report finalization, so they go to `bulk`, not the user-facing queue.
@register(
    "labels.batch",
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
