"""Reads of work orders and billable protocols; visibility is decided here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import OuterRef, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from patolab.accounts.models import Role, User, Veterinarian
from patolab.accounts.permissions import (
    has_role,
    require_role,
    scope_to_user,
    user_placeholder,
    user_shape,
)
from patolab.core.documents import DocumentProbe, printed_digest, stored_row
from patolab.core.prepared import prepared_row
from patolab.protocols.models import AnalysisType, Protocol, ProtocolStatus

from .documents import WORKORDER_PRINTED, workorder_pdf_filename_for
from .models import (
    PricingItem,
    WorkOrder,
    WorkOrderPayment,
    WorkOrderPdf,
    WorkOrderProtocol,
)
from .pricing import pricing_for_analysis

# A protocol can be billed once the lab has received its sample.
BILLABLE_STATUSES = (
    ProtocolStatus.RECEIVED,
    ProtocolStatus.PROCESSING,
    ProtocolStatus.READY,
    ProtocolStatus.REPORT_SENT,
)


def workorder_list_for(
    *, user: User, filters: dict[str, Any] | None = None
) -> QuerySet[WorkOrder]:
    """Work orders the user may see (vets: their own), filtered by `status`,
    `payment_status`, `veterinarian` (id), `q` (number, billing name, CUIT, vet),
    `date_from` / `date_to` (creation date). Lab staff, veterinarians and
    admins only (403 for other roles)."""
    require_role(user, Role.LAB_STAFF, Role.VETERINARIAN)
    filters = filters or {}
    qs = scope_to_user(
        WorkOrder.objects.select_related("veterinarian"),
        user,
        vet_field="veterinarian",
    )
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    if filters.get("payment_status"):
        qs = qs.filter(payment_status=filters["payment_status"])
    if filters.get("veterinarian"):
        qs = qs.filter(veterinarian_id=filters["veterinarian"])
    if filters.get("q"):
        term = str(filters["q"]).strip()
        qs = qs.filter(
            Q(number__icontains=term)
            | Q(billing_name__icontains=term)
            | Q(cuit__icontains=term)
            | Q(veterinarian__full_name__icontains=term)
        )
    date_from: date | None = filters.get("date_from")
    date_to: date | None = filters.get("date_to")
    if date_from:
        qs = qs.filter(created_at__date__gte=date_from)
    if date_to:
        qs = qs.filter(created_at__date__lte=date_to)
    return qs.order_by("-created_at", "-id")


def _with_document_data(qs: QuerySet[WorkOrder]) -> QuerySet[WorkOrder]:
    links = Prefetch(
        "protocol_links",
        queryset=WorkOrderProtocol.objects.select_related("protocol").order_by(
            "protocol__received_at", "protocol_id"
        ),
    )
    return qs.select_related("veterinarian").prefetch_related("lines", links)


def workorder_get_for(*, user: User, pk: object) -> WorkOrder:
    """One work order with its lines and protocols, from `workorder_list_for`
    (same visibility); another vet's gives 404."""
    qs = _with_document_data(workorder_list_for(user=user)).prefetch_related(
        Prefetch(
            "payments",
            queryset=WorkOrderPayment.objects.select_related("recorded_by"),
        )
    )
    return get_object_or_404(qs, pk=pk)


def workorder_for_document(*, pk: object) -> WorkOrder:
    """Internal (jobs): a work order with everything its PDF prints, fresh."""
    return _with_document_data(WorkOrder.objects.all()).get(pk=pk)


def workorder_pdf_probe(*, user: User, pk: int) -> DocumentProbe | None:
    """The lean read of a work-order PDF GET (`document_serve_current`): with
    the visibility of `workorder_get_for`, the printed-rows digest and the
    newest stored PDF's row. None when the work order is not visible or the
    role may not read work orders: the full path answers (404, 403)."""
    if not has_role(user, Role.LAB_STAFF, Role.VETERINARIAN, Role.ADMIN):
        return None

    def build(marks: dict[str, int]) -> QuerySet[Any]:
        me = user_placeholder(user, marks["user"])
        return (
            workorder_list_for(user=me)
            .filter(pk=marks["pk"])
            .order_by()
            .values("number")
            .annotate(
                printed=printed_digest(WorkOrder, WORKORDER_PRINTED),
                stored=stored_row(
                    WorkOrderPdf.objects.filter(work_order=OuterRef("pk")).order_by(
                        "-created_at", "-id"
                    )
                ),
            )
        )

    row = prepared_row(
        ("workorders.pdf_probe", *user_shape(user)), build, pk=pk, user=user.pk
    )
    if row is None:
        return None
    return DocumentProbe(
        digest=row["printed"],
        stored=row["stored"],
        filename=workorder_pdf_filename_for(number=row["number"], pk=pk),
    )


def protocols_billable_for(*, veterinarian: Veterinarian) -> QuerySet[Protocol]:
    """Received (or later) protocols of `veterinarian` not yet on a work order."""
    return Protocol.objects.filter(
        veterinarian=veterinarian,
        status__in=BILLABLE_STATUSES,
        work_order_link__isnull=True,
    ).order_by("received_at", "id")


@dataclass(frozen=True)
class BillableRow:
    """A protocol that can go on a new work order, with the catalog item that
    would price it today (None when the catalog has no valid price)."""

    protocol: Protocol
    price: PricingItem | None


def protocols_billable_rows(*, veterinarian: Veterinarian) -> list[BillableRow]:
    """The new-work-order table: unbilled protocols, oldest reception first,
    each with its catalog price (one catalog query per analysis type)."""
    prices = {t: pricing_for_analysis(t) for t in AnalysisType.values}
    return [
        BillableRow(protocol=p, price=prices.get(p.analysis_type))
        for p in protocols_billable_for(veterinarian=veterinarian)
    ]
