"""Work orders and pricing (API.md "Work orders"); same services as the web UI."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.http.response import HttpResponseBase
from django.utils.translation import gettext as _
from ninja import Router, Schema

from patolab.accounts.models import Role, Veterinarian
from patolab.accounts.permissions import require_role
from patolab.core.api import openapi_required, paginate, role_auth
from patolab.core.documents import document_get_or_start, document_serve_current
from patolab.core.errors import ValidationFailed
from patolab.jobs.api import document_answer

from .jobs import WORKORDER_DOCUMENT
from .pricing import pricing_valid_on
from .selectors import workorder_get_for, workorder_list_for
from .serializers import pricing_to_dict, workorder_to_dict
from .services import (
    LineInput,
    workorder_create,
    workorder_issue,
    workorder_mark_sent,
    workorder_payment_record,
    workorder_update,
)

router = Router(tags=["workorders"])


class LineIn(Schema):
    # Loose types on purpose: the service validates and names the bad line.
    code: str
    quantity: Any = 1
    discount_percent: Any = 0
    protocol_id: Any = None


class WorkOrderIn(Schema):
    veterinarian_id: int
    protocol_ids: list[Any]
    lines: list[LineIn] | None = None
    auto_protocol_lines: bool | None = None
    tax_condition: str
    billing_name: str = ""
    cuit: str = ""
    advance_payment: Any = 0
    notes: str = ""


class WorkOrderPatch(Schema):
    lines: list[LineIn] | None = None
    notes: str | None = None
    billing_name: str | None = None
    cuit: str | None = None
    tax_condition: str | None = None
    advance_payment: Any = None


class PaymentIn(Schema):
    # Optional in pydantic so the service names both fields in one 400.
    model_config = openapi_required("amount", "paid_on")
    amount: Any = None
    paid_on: Any = None


def _lines(items: list[LineIn] | None) -> list[LineInput] | None:
    if items is None:
        return None
    return [LineInput(**item.dict()) for item in items]


def _staff(request: HttpRequest) -> None:
    require_role(request.user, Role.LAB_STAFF)


@router.get("/pricing", url_name="pricing_list")
def pricing_list(request: HttpRequest) -> list[dict[str, Any]]:
    """The catalog valid today."""
    return [pricing_to_dict(item) for item in pricing_valid_on()]


@router.post("/workorders", auth=role_auth(Role.LAB_STAFF), url_name="workorder_create")
def workorder_create_endpoint(request: HttpRequest, payload: WorkOrderIn) -> Any:
    _staff(request)
    vet = Veterinarian.objects.filter(pk=payload.veterinarian_id).first()
    if vet is None:
        raise ValidationFailed(
            _("Veterinario/a inexistente."),
            errors={"veterinarian_id": [_("No existe un veterinario/a con ese id.")]},
        )
    wo = workorder_create(
        veterinarian=vet,
        protocols=payload.protocol_ids,
        lines=_lines(payload.lines),
        auto_protocol_lines=payload.auto_protocol_lines,
        tax_condition=payload.tax_condition,
        billing_name=payload.billing_name,
        cuit=payload.cuit,
        advance_payment=payload.advance_payment,
        notes=payload.notes,
        created_by=request.user,
    )
    wo = workorder_get_for(user=request.user, pk=wo.pk)
    return JsonResponse(workorder_to_dict(wo), status=201)


@router.get("/workorders", url_name="workorder_list")
def workorder_list_endpoint(
    request: HttpRequest,
    status: str = "",
    payment_status: str = "",
    veterinarian_id: int | None = None,
    q: str = "",
    created_from: date | None = None,
    created_to: date | None = None,
    page: int = 1,
    page_size: int = 50,
) -> dict[str, Any]:
    qs = workorder_list_for(
        user=request.user,
        filters={
            "status": status,
            "payment_status": payment_status,
            "veterinarian": veterinarian_id,
            "q": q,
            "date_from": created_from,
            "date_to": created_to,
        },
    ).prefetch_related("lines", "protocol_links__protocol", "payments")
    return paginate(request, qs, workorder_to_dict, page=page, page_size=page_size)


@router.get("/workorders/{workorder_id}", url_name="workorder_get")
def workorder_get_endpoint(request: HttpRequest, workorder_id: int) -> dict[str, Any]:
    return workorder_to_dict(workorder_get_for(user=request.user, pk=workorder_id))


@router.patch(
    "/workorders/{workorder_id}",
    auth=role_auth(Role.LAB_STAFF),
    url_name="workorder_patch",
)
def workorder_patch_endpoint(
    request: HttpRequest, workorder_id: int, payload: WorkOrderPatch
) -> dict[str, Any]:
    _staff(request)
    wo = workorder_get_for(user=request.user, pk=workorder_id)
    workorder_update(
        work_order=wo,
        lines=_lines(payload.lines),
        notes=payload.notes,
        billing_name=payload.billing_name,
        cuit=payload.cuit,
        tax_condition=payload.tax_condition,
        advance_payment=payload.advance_payment,
        user=request.user,
    )
    return workorder_to_dict(workorder_get_for(user=request.user, pk=workorder_id))


@router.post("/workorders/{workorder_id}/issue", url_name="workorder_issue")
def workorder_issue_endpoint(request: HttpRequest, workorder_id: int) -> dict[str, Any]:
    _staff(request)
    wo = workorder_get_for(user=request.user, pk=workorder_id)
    workorder_issue(work_order=wo, user=request.user)
    return workorder_to_dict(workorder_get_for(user=request.user, pk=workorder_id))


@router.post("/workorders/{workorder_id}/sent", url_name="workorder_sent")
def workorder_sent_endpoint(request: HttpRequest, workorder_id: int) -> dict[str, Any]:
    _staff(request)
    wo = workorder_get_for(user=request.user, pk=workorder_id)
    workorder_mark_sent(work_order=wo, user=request.user)
    return workorder_to_dict(workorder_get_for(user=request.user, pk=workorder_id))


@router.post(
    "/workorders/{workorder_id}/payment",
    auth=role_auth(Role.LAB_STAFF),
    url_name="workorder_payment",
)
def workorder_payment_endpoint(
    request: HttpRequest, workorder_id: int, payload: PaymentIn
) -> dict[str, Any]:
    _staff(request)
    wo = workorder_get_for(user=request.user, pk=workorder_id)
    workorder_payment_record(
        work_order=wo,
        amount=payload.amount,
        paid_on=payload.paid_on,
        user=request.user,
    )
    return workorder_to_dict(workorder_get_for(user=request.user, pk=workorder_id))


@router.get("/workorders/{workorder_id}/pdf", url_name="workorder_pdf")
def workorder_pdf_endpoint(request: HttpRequest, workorder_id: int) -> HttpResponseBase:
    """API.md "Documents": 200 PDF (ETag, 304) when current; 202 {"job"} with
    Retry-After while it is (re)generated; asking again joins the same job."""
    current = document_serve_current(request, WORKORDER_DOCUMENT, pk=workorder_id)
    if current is not None:
        return current
    wo = workorder_get_for(user=request.user, pk=workorder_id)
    state = document_get_or_start(WORKORDER_DOCUMENT, wo, user=request.user)
    return document_answer(request, WORKORDER_DOCUMENT, wo, state)
