"""The work-order PDF, cached by fingerprint (DESIGN section 5, issue 4 §2).

The fingerprint is the SHA-256 of a canonical JSON of everything the PDF prints
plus the renderer version. A `WorkOrderPdf` row with the work order's *current*
fingerprint is the current PDF; rows with other fingerprints are stale history
and are never served. Rendering runs in the `workorder.pdf` job
(queue `pdf_generation`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from patolab.accounts.models import User
from patolab.core.files import safe_filename, sha256_hex, store_bytes
from patolab.core.pdf.styles import format_date
from patolab.jobs.models import Job
from patolab.jobs.services import job_start
from patolab.protocols.models import AnalysisType

from .models import TaxCondition, WorkOrder, WorkOrderPdf, WorkOrderStatus
from .pdf import (
    RENDERER_VERSION,
    PdfLine,
    PdfProtocol,
    WorkOrderDocument,
    render_work_order,
)
from .pricing import compute_totals, line_amounts

PDF_JOB_KIND = "workorder.pdf"


def workorder_document(*, work_order: WorkOrder) -> WorkOrderDocument:
    """Everything the PDF prints (uses prefetched lines and protocols when the
    caller loaded them, as `workorder_get_for` does)."""
    vet = work_order.veterinarian
    # `.all()` reuses what `workorder_get_for` prefetched (no extra queries on
    # the hot path of serving a cached PDF); sorted here for a stable order.
    links = sorted(
        work_order.protocol_links.all(),
        key=lambda link: (
            link.protocol.received_at is None,
            link.protocol.received_at or timezone.now(),
            link.protocol_id,
        ),
    )
    lines = sorted(work_order.lines.all(), key=lambda line: (line.position, line.pk))
    amounts = [
        line_amounts(
            quantity=line.quantity,
            unit_price=line.unit_price,
            discount_percent=line.discount_percent,
        )
        for line in lines
    ]
    totals = compute_totals(
        lines=amounts,
        tax_condition=work_order.tax_condition,
        advance_payment=work_order.advance_payment,
    )
    printed_date = work_order.issued_at or work_order.created_at or timezone.now()
    return WorkOrderDocument(
        lab_name=settings.LAB_NAME,
        number=work_order.number,
        status=WorkOrderStatus(work_order.status).label,
        date=format_date(timezone.localtime(printed_date)),
        veterinarian=vet.full_name,
        veterinarian_license=vet.license_number,
        veterinarian_contact=" · ".join(
            part for part in (vet.email, vet.phone, vet.locality) if part
        ),
        billing_name=work_order.billing_name,
        cuit=work_order.cuit,
        tax_condition=TaxCondition(work_order.tax_condition).label,
        tax_discriminated=totals.tax_discriminated,
        protocols=tuple(
            PdfProtocol(
                code=link.protocol.code,
                analysis=str(AnalysisType(link.protocol.analysis_type).label),
                animal=" · ".join(
                    part
                    for part in (
                        link.protocol.animal_name,
                        link.protocol.species,
                        link.protocol.owner_name,
                    )
                    if part
                ),
                received=format_date(
                    timezone.localtime(link.protocol.received_at)
                    if link.protocol.received_at
                    else None
                ),
            )
            for link in links
        ),
        lines=tuple(
            PdfLine(
                code=line.code,
                description=line.description,
                quantity=line.quantity,
                unit_price=line.unit_price,
                discount_percent=line.discount_percent,
                amount=amount.amount,
            )
            for line, amount in zip(lines, amounts, strict=True)
        ),
        subtotal=totals.subtotal,
        discount_total=totals.discount_total,
        net=totals.net,
        tax_total=totals.tax_total,
        total=totals.total,
        advance_payment=totals.advance_payment,
        balance=totals.balance,
        notes=work_order.notes,
    )


def document_fingerprint(document: WorkOrderDocument) -> str:
    """SHA-256 of the canonical JSON of the printed data + renderer version."""
    payload: dict[str, Any] = {"renderer": RENDERER_VERSION, "data": asdict(document)}
    canonical = json.dumps(
        payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def workorder_fingerprint(*, work_order: WorkOrder) -> str:
    return document_fingerprint(workorder_document(work_order=work_order))


def workorder_pdf_current(*, work_order: WorkOrder) -> WorkOrderPdf | None:
    """The cached PDF matching the work order as it is now, or None."""
    fingerprint = workorder_fingerprint(work_order=work_order)
    return WorkOrderPdf.objects.filter(
        work_order=work_order, fingerprint=fingerprint
    ).first()


def workorder_pdf_build(*, work_order: WorkOrder) -> WorkOrderPdf:
    """Render and store the PDF for the work order's current data (job handler).

    Idempotent: a row for the current fingerprint is returned as is; a rerun
    after a crash between store and insert rewrites the same bytes at the same
    path (deterministic renderer) and inserts the row once (unique constraint).
    """
    document = workorder_document(work_order=work_order)
    fingerprint = document_fingerprint(document)
    existing = WorkOrderPdf.objects.filter(
        work_order=work_order, fingerprint=fingerprint
    ).first()
    if existing is not None:
        return existing
    data = render_work_order(document)
    path = "workorders/" + safe_filename(
        work_order.number, f"{work_order.pk}-{fingerprint[:16]}"
    )
    stored = store_bytes(path, data)
    try:
        with transaction.atomic():
            return WorkOrderPdf.objects.create(
                work_order=work_order,
                fingerprint=fingerprint,
                file=stored,
                sha256=sha256_hex(data),
                size=len(data),
            )
    except IntegrityError:
        return WorkOrderPdf.objects.get(work_order=work_order, fingerprint=fingerprint)


def workorder_pdf_get_or_start(
    *, work_order: WorkOrder, user: User | None
) -> tuple[WorkOrderPdf | None, Job | None]:
    """`(pdf, None)` when the current PDF is cached; otherwise `(None, job)` with
    the active `workorder.pdf` job for this work order, started if none is
    active (one job per work order even under concurrent requests: job_start's
    partial unique constraint). A stale PDF is never returned. The caller has
    already checked that `user` may see the work order."""
    fingerprint = workorder_fingerprint(work_order=work_order)
    pdf = WorkOrderPdf.objects.filter(
        work_order=work_order, fingerprint=fingerprint
    ).first()
    if pdf is not None:
        return pdf, None
    job = job_start(
        kind=PDF_JOB_KIND,
        target=work_order,
        params={"fingerprint": fingerprint},
        user=user,
    )
    return None, job


def workorder_pdf_filename(work_order: WorkOrder) -> str:
    return safe_filename(work_order.number, work_order.pk)


def workorder_pdf_status(
    *, work_order: WorkOrder
) -> tuple[WorkOrderPdf | None, Job | None]:
    """For polling without side effects: the current PDF, or else the latest
    `workorder.pdf` job of this work order (None if there never was one)."""
    pdf = workorder_pdf_current(work_order=work_order)
    if pdf is not None:
        return pdf, None
    from patolab.jobs.selectors import target_key

    job = (
        Job.objects.filter(kind=PDF_JOB_KIND, target=target_key(work_order))
        .order_by("-created_at")
        .first()
    )
    return None, job
