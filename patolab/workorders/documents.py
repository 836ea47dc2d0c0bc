"""The work-order PDF: what it prints (pure) and where its file goes.

It is a document of the one pipeline (`patolab.core.documents`, kind
`WORKORDER_PDF` in `workorders/jobs.py`), cached by the fingerprint of
everything it prints plus the renderer version (DESIGN section 5). A
`WorkOrderPdf` row with the work order's *current* fingerprint is the current
PDF; rows with other fingerprints are stale history and are never served.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from patolab.core.files import safe_filename
from patolab.core.pdf.styles import format_date
from patolab.protocols.models import AnalysisType

from .models import TaxCondition, WorkOrder, WorkOrderStatus
from .pdf import PdfLine, PdfProtocol, WorkOrderDocument
from .pricing import compute_totals, line_amounts

# Every row `workorder_document_data` reads besides the work order's own (the
# fast serving path's digest; a test checks the list against the reads).
WORKORDER_PRINTED = (
    "veterinarian",
    "lines",
    "protocol_links",
    "protocol_links__protocol",
)


def workorder_document_data(work_order: WorkOrder) -> WorkOrderDocument:
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


def workorder_storage_path(work_order: WorkOrder, fingerprint: str, sha256: str) -> str:
    return "workorders/" + safe_filename(
        work_order.number, f"{work_order.pk}-{fingerprint[:16]}"
    )


def workorder_pdf_filename(work_order: WorkOrder) -> str:
    return workorder_pdf_filename_for(number=work_order.number, pk=work_order.pk)


def workorder_pdf_filename_for(*, number: str, pk: int) -> str:
    return safe_filename(number, pk)
