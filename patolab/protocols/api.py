"""Protocols section of API.md. Thin: validate, call a service/selector, serialize."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.errors import HttpError
from pydantic import ConfigDict

from patolab.accounts.models import Role, Veterinarian
from patolab.accounts.permissions import INTERNAL_ROLES, STAFF_ROLES, require_role
from patolab.core.api import openapi_required, page_envelope, page_offset, role_auth
from patolab.core.errors import NotAllowed, ValidationFailed
from patolab.jobs.api import document_answer, job_accepted

from .jobs import SLIP
from .selectors import (
    protocol_get_for,
    protocol_history,
    protocol_lookup,
    protocol_page_for_api,
    protocol_slip_get_for,
)
from .serializers import history_to_dict, protocol_row_to_dict, protocol_to_dict
from .services import (
    protocol_bulk_status_start,
    protocol_cancel,
    protocol_create,
    protocol_receive,
    protocol_receive_batch_start,
    protocol_reject,
    protocol_save_draft,
    protocol_slip_get_or_start,
    protocol_status_change,
    protocol_submit,
)
from .trail import protocol_audit_trail

router = Router(tags=["protocols"])


def _required_when(field: str, value: Any, *names: str) -> dict[str, Any]:
    return {
        "if": {"properties": {field: {"const": value}}, "required": [field]},
        "then": {"required": list(names)},
    }


class ProtocolIn(Schema):
    # Everything optional here so that the service names every missing
    # required field in one 400 (API.md error format).
    model_config = openapi_required(
        "analysis_type",
        # A submission (not a draft) also needs these (protocol_validate_submission).
        allOf=[
            {
                "if": {"properties": {"draft": {"const": False}}},
                "then": {
                    "required": ["species", "animal_name", "sampling_date"],
                    "allOf": [
                        _required_when(
                            "analysis_type", "histopathology", "material_submitted"
                        ),
                        _required_when("analysis_type", "cytology", "technique"),
                    ],
                },
            }
        ],
    )
    veterinarian_id: int | None = None
    analysis_type: str | None = None
    species: str | None = None
    breed: str | None = None
    sex: str | None = None
    age: str | None = None
    animal_name: str | None = None
    owner_name: str | None = None
    presumptive_diagnosis: str | None = None
    clinical_history: str | None = None
    sample_description: str | None = None
    sampling_date: date | None = None
    academic_interest: bool | None = None
    material_submitted: str | None = None
    containers: int | None = None
    preservation: str | None = None
    technique: str | None = None
    sampling_site: str | None = None
    slides: int | None = None
    # True: save as a draft (incomplete allowed; submit it later).
    draft: bool = False


class DraftIn(ProtocolIn):
    """PATCH of a draft: only the fields sent change."""

    model_config = ConfigDict(json_schema_extra=None)


class CancelIn(Schema):
    reason: str = ""


class ReceiveIn(Schema):
    model_config = openapi_required("sample_condition", "containers")
    sample_condition: str = ""
    containers: int | None = None
    discrepancies: str = ""
    notes: str = ""


class RejectIn(Schema):
    model_config = openapi_required("reason")
    reason: str = ""


class StatusIn(Schema):
    model_config = openapi_required("status")
    status: str = ""
    note: str = ""


class ReceiveBatchIn(Schema):
    model_config = openapi_required("items")
    # Items are checked by the service (one 400 naming every bad item).
    items: Any = None


class BulkStatusIn(Schema):
    model_config = openapi_required("protocol_ids", "status")
    protocol_ids: list[int] = []
    status: str = ""
    note: str = ""


def _submitting_vet(user: Any, veterinarian_id: int | None) -> Veterinarian:
    if user.is_admin_role and veterinarian_id is not None:
        vet = Veterinarian.objects.filter(pk=veterinarian_id).first()
        if vet is None:
            raise ValidationFailed(
                _("Veterinario/a inexistente."),
                errors={"veterinarian_id": [_("No existe.")]},
            )
        return vet
    if user.is_admin_role:
        raise ValidationFailed(
            _("Indique el/la veterinario/a."),
            errors={"veterinarian_id": [_("Este campo es obligatorio.")]},
        )
    require_role(user, Role.VETERINARIAN)
    vet = getattr(user, "veterinarian", None)
    if vet is None or not vet.profile_complete:
        raise NotAllowed(
            _("Complete su perfil (matrícula, teléfono y localidad) antes de enviar."),
            code="profile_incomplete",
        )
    return vet


@router.post("/protocols", url_name="protocol_create")
def protocol_create_endpoint(request: HttpRequest, payload: ProtocolIn) -> HttpResponse:
    data = payload.dict(exclude_none=True)
    draft = data.pop("draft", False)
    vet = _submitting_vet(request.user, data.pop("veterinarian_id", None))
    if draft:
        protocol = protocol_save_draft(
            veterinarian=vet, created_by=request.user, **data
        )
    else:
        protocol = protocol_create(veterinarian=vet, created_by=request.user, **data)
    body = protocol_to_dict(protocol_get_for(user=request.user, pk=protocol.pk))
    return JsonResponse(body, status=201)


@router.get("/protocols", url_name="protocol_list")
def protocol_list_endpoint(
    request: HttpRequest,
    status: str = "",
    analysis_type: str = "",
    q: str = "",
    received_from: date | None = None,
    received_to: date | None = None,
    page: int = 1,
    page_size: int = 50,
) -> dict[str, Any]:
    filters = {
        "status": status,
        "analysis_type": analysis_type,
        "q": q,
        "received_from": received_from,
        "received_to": received_to,
    }
    offset, limit = page_offset(page=page, page_size=page_size)
    count, rows = protocol_page_for_api(
        user=request.user, filters=filters, offset=offset, limit=limit
    )
    results = [protocol_row_to_dict(row) for row in rows]
    return page_envelope(
        request, count=count, offset=offset, limit=limit, results=results
    )


# Literal paths before "/protocols/{id}" (route order matters).
# Before the `/protocols/{protocol_id}` routes, which would otherwise match it.
@router.post(
    "/protocols/receive-batch",
    auth=role_auth(*STAFF_ROLES),
    url_name="protocol_receive_batch",
)
def protocol_receive_batch_endpoint(
    request: HttpRequest, payload: ReceiveBatchIn
) -> HttpResponse:
    """A courier box: 202 with one job; each item received like a single one."""
    job = protocol_receive_batch_start(items=payload.items, user=request.user)
    return job_accepted(job)


@router.get("/protocols/lookup", url_name="protocol_lookup")
def protocol_lookup_endpoint(request: HttpRequest, code: str = "") -> dict[str, Any]:
    require_role(request.user, *STAFF_ROLES)
    if not code.strip():
        raise ValidationFailed(
            _("Indique un código."), errors={"code": [_("Este campo es obligatorio.")]}
        )
    protocol = protocol_lookup(code=code)
    if protocol is None:
        raise HttpError(
            404,
            _("No se encontró ningún protocolo con el código «%(code)s».")
            % {"code": code.strip()},
        )
    return protocol_to_dict(protocol)


@router.post(
    "/protocols/bulk-status",
    auth=role_auth(Role.ADMIN),
    url_name="protocol_bulk_status",
)
def protocol_bulk_status_endpoint(
    request: HttpRequest, payload: BulkStatusIn
) -> HttpResponse:
    require_role(request.user, Role.ADMIN)
    job = protocol_bulk_status_start(
        protocol_ids=payload.protocol_ids,
        status=payload.status,
        note=payload.note,
        user=request.user,
    )
    return job_accepted(job)


@router.get("/protocols/{protocol_id}", url_name="protocol_get")
def protocol_get_endpoint(request: HttpRequest, protocol_id: int) -> dict[str, Any]:
    return protocol_to_dict(protocol_get_for(user=request.user, pk=protocol_id))


@router.post(
    "/protocols/{protocol_id}/receive",
    auth=role_auth(*STAFF_ROLES),
    url_name="protocol_receive",
)
def protocol_receive_endpoint(
    request: HttpRequest, protocol_id: int, payload: ReceiveIn
) -> dict[str, Any]:
    require_role(request.user, *STAFF_ROLES)
    protocol = protocol_get_for(user=request.user, pk=protocol_id)
    protocol = protocol_receive(
        protocol=protocol,
        received_by=request.user,
        sample_condition=payload.sample_condition,
        containers=payload.containers,
        discrepancies=payload.discrepancies,
        notes=payload.notes,
    )
    return protocol_to_dict(protocol_get_for(user=request.user, pk=protocol.pk))


@router.post(
    "/protocols/{protocol_id}/reject",
    auth=role_auth(*STAFF_ROLES),
    url_name="protocol_reject",
)
def protocol_reject_endpoint(
    request: HttpRequest, protocol_id: int, payload: RejectIn
) -> dict[str, Any]:
    require_role(request.user, *STAFF_ROLES)
    protocol = protocol_get_for(user=request.user, pk=protocol_id)
    protocol_reject(protocol=protocol, rejected_by=request.user, reason=payload.reason)
    return protocol_to_dict(protocol_get_for(user=request.user, pk=protocol.pk))


@router.post(
    "/protocols/{protocol_id}/status",
    auth=role_auth(*STAFF_ROLES),
    url_name="protocol_status",
)
def protocol_status_endpoint(
    request: HttpRequest, protocol_id: int, payload: StatusIn
) -> dict[str, Any]:
    require_role(request.user, *STAFF_ROLES)
    protocol = protocol_get_for(user=request.user, pk=protocol_id)
    protocol_status_change(
        protocol=protocol,
        to_status=payload.status,
        user=request.user,
        note=payload.note,
    )
    return protocol_to_dict(protocol_get_for(user=request.user, pk=protocol.pk))


@router.get("/protocols/{protocol_id}/audit", url_name="protocol_audit")
def protocol_audit_endpoint(
    request: HttpRequest, protocol_id: int
) -> list[dict[str, Any]]:
    """The protocol's audit trail, oldest first (lab staff, histopathologists,
    admins). Veterinarians get 404, for their own protocols too."""
    if request.user.is_veterinarian:
        raise Http404
    require_role(request.user, *INTERNAL_ROLES)
    protocol = protocol_get_for(user=request.user, pk=protocol_id)
    return [entry.as_dict() for entry in protocol_audit_trail(protocol=protocol)]


@router.get("/protocols/{protocol_id}/history", url_name="protocol_history")
def protocol_history_endpoint(
    request: HttpRequest, protocol_id: int
) -> list[dict[str, Any]]:
    protocol = protocol_get_for(user=request.user, pk=protocol_id)
    return [history_to_dict(row) for row in protocol_history(protocol=protocol)]


@router.patch("/protocols/{protocol_id}", url_name="protocol_update_draft")
def protocol_update_draft_endpoint(
    request: HttpRequest, protocol_id: int, payload: DraftIn
) -> dict[str, Any]:
    """Edit a draft (the owner, or an admin): 409 once submitted."""
    protocol = protocol_get_for(user=request.user, pk=protocol_id)
    data = payload.dict(exclude_none=True, exclude={"draft", "veterinarian_id"})
    data.pop("analysis_type", None)  # fixed at creation
    protocol_save_draft(
        veterinarian=protocol.veterinarian,
        created_by=request.user,
        protocol=protocol,
        **data,
    )
    return protocol_to_dict(protocol_get_for(user=request.user, pk=protocol.pk))


@router.post("/protocols/{protocol_id}/submit", url_name="protocol_submit")
def protocol_submit_endpoint(request: HttpRequest, protocol_id: int) -> dict[str, Any]:
    """Submit a draft: 400 naming every missing field, 409 if not a draft."""
    protocol = protocol_get_for(user=request.user, pk=protocol_id)
    protocol_submit(protocol=protocol, user=request.user)
    return protocol_to_dict(protocol_get_for(user=request.user, pk=protocol.pk))


@router.post("/protocols/{protocol_id}/cancel", url_name="protocol_cancel")
def protocol_cancel_endpoint(
    request: HttpRequest, protocol_id: int, payload: CancelIn
) -> dict[str, Any]:
    """The veterinarian withdraws a draft or a submitted protocol; 409 after
    reception."""
    protocol = protocol_get_for(user=request.user, pk=protocol_id)
    protocol_cancel(protocol=protocol, user=request.user, reason=payload.reason)
    return protocol_to_dict(protocol_get_for(user=request.user, pk=protocol.pk))


@router.get("/protocols/{protocol_id}/slip.pdf", url_name="protocol_slip_pdf")
def protocol_slip_pdf_endpoint(
    request: HttpRequest, protocol_id: int
) -> HttpResponseBase:
    """The submission slip (PDF endpoint: 200, or 202 `{"job"}` while it is
    made); 409 for a draft or once received."""
    protocol = protocol_slip_get_for(user=request.user, pk=protocol_id)
    state = protocol_slip_get_or_start(protocol=protocol, user=request.user)
    return document_answer(request, SLIP, protocol, state)
