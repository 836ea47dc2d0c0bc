"""Reports API (API.md "Reports"): drafts, finalize job, PDF endpoint,
regeneration and the public verification JSON."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils.translation import gettext as _
from ninja import File, Router, Schema
from ninja.files import UploadedFile

from patolab.accounts.models import Role
from patolab.accounts.permissions import AuthenticatedHttpRequest, require_role
from patolab.core.api import paginate, role_auth
from patolab.core.documents import document_get_or_start, document_serve_current
from patolab.core.errors import ValidationFailed
from patolab.jobs.api import document_answer, job_accepted
from patolab.protocols.models import Protocol

from .forms import MAX_UPLOAD_BYTES
from .jobs import REPORT_DOCUMENT
from .resend import notifications_bulk_start
from .selectors import (
    report_get_by_verification,
    report_get_for,
    report_get_for_download,
    report_list_for,
    report_verification,
)
from .serializers import report_to_dict
from .services import (
    report_create,
    report_regenerate_start,
    report_request_finalize,
    report_update_draft,
)
from .verification import report_signature_facts, report_upload_check

router = Router(tags=["reports"])


class ReportIn(Schema):
    protocol_id: int
    macroscopic: str = ""
    microscopic: str = ""
    diagnosis: str = ""
    comments: str = ""


class ReportPatch(Schema):
    macroscopic: str | None = None
    microscopic: str | None = None
    diagnosis: str | None = None
    comments: str | None = None


class RegenerateIn(Schema):
    report_ids: list[int] | None = None
    all: bool = False


@router.post(
    "/reports", auth=role_auth(Role.HISTOPATHOLOGIST), url_name="report_create"
)
def report_create_endpoint(
    request: AuthenticatedHttpRequest, payload: ReportIn
) -> HttpResponse:
    require_role(request.user, Role.HISTOPATHOLOGIST)
    protocol = Protocol.objects.filter(pk=payload.protocol_id).first()
    if protocol is None:
        raise ValidationFailed(
            _("Datos inválidos."),
            errors={"protocol_id": [_("El protocolo no existe.")]},
        )
    report = report_create(
        protocol=protocol,
        histopathologist=request.user,
        **payload.dict(exclude={"protocol_id"}),
    )
    return _json(report_to_dict(report), status=201)


@router.get("/reports", url_name="report_list")
def report_list(
    request: AuthenticatedHttpRequest,
    status: str = "",
    q: str = "",
    page: int = 1,
    page_size: int = 50,
) -> dict[str, Any]:
    qs = report_list_for(user=request.user, status=status, q=q)
    return paginate(request, qs, report_to_dict, page=page, page_size=page_size)


# Before /reports/{report_id}: URL patterns match in registration order.
@router.post(
    "/reports/regenerate", auth=role_auth(Role.ADMIN), url_name="report_regenerate"
)
def report_regenerate(
    request: AuthenticatedHttpRequest, payload: RegenerateIn
) -> HttpResponse:
    job = report_regenerate_start(
        user=request.user, report_ids=payload.report_ids, all_reports=payload.all
    )
    return job_accepted(job)


@router.get("/reports/{report_id}", url_name="report_get")
def report_get(request: AuthenticatedHttpRequest, report_id: int) -> dict[str, Any]:
    return report_to_dict(report_get_for(user=request.user, pk=report_id))


@router.patch(
    "/reports/{report_id}",
    auth=role_auth(Role.HISTOPATHOLOGIST),
    url_name="report_patch",
)
def report_patch(
    request: AuthenticatedHttpRequest, report_id: int, payload: ReportPatch
) -> dict[str, Any]:
    report = report_get_for(user=request.user, pk=report_id)
    require_role(request.user, Role.HISTOPATHOLOGIST)
    report = report_update_draft(
        report=report, user=request.user, **payload.dict(exclude_unset=True)
    )
    return report_to_dict(report)


@router.post("/reports/{report_id}/finalize", url_name="report_finalize")
def report_finalize(request: AuthenticatedHttpRequest, report_id: int) -> HttpResponse:
    # Visibility (404) and role (403) are checked by the service's locked read.
    return job_accepted(report_request_finalize(report_id=report_id, user=request.user))


@router.get("/reports/{report_id}/pdf", url_name="report_pdf")
def report_pdf(request: AuthenticatedHttpRequest, report_id: int) -> HttpResponseBase:
    """API.md "Documents"; 409 for a draft."""
    current = document_serve_current(request, REPORT_DOCUMENT, pk=report_id)
    if current is not None:
        return current
    report = report_get_for_download(user=request.user, pk=report_id)
    state = document_get_or_start(REPORT_DOCUMENT, report, user=request.user)
    return document_answer(request, REPORT_DOCUMENT, report, state)


class NotificationsBulkIn(Schema):
    protocol_ids: list[int]
    email_type: str


# API.md "Notifications": the outbox sits below the domain, so the bulk re-send
# (which reads protocols and reports) is served from here.
@router.post("/notifications/bulk", auth=role_auth(), url_name="notifications_bulk")
def notifications_bulk(
    request: AuthenticatedHttpRequest, payload: NotificationsBulkIn
) -> HttpResponse:
    job = notifications_bulk_start(
        protocol_ids=payload.protocol_ids,
        email_type=payload.email_type,
        user=request.user,
    )
    return job_accepted(job)


@router.get("/verify/{verification_id}", auth=None, url_name="report_verify")
def report_verify(
    request: HttpRequest, verification_id: UUID, sha256: str = ""
) -> dict[str, Any]:
    report = report_get_by_verification(verification_id=verification_id)
    return {
        **report_verification(report=report, sha256=sha256).as_dict(),
        "signature": report_signature_facts(report=report).as_dict(),
    }


@router.post("/verify/{verification_id}", auth=None, url_name="report_verify_upload")
def report_verify_upload(
    request: HttpRequest, verification_id: UUID, file: File[UploadedFile]
) -> dict[str, Any]:
    """The same facts as the page for an uploaded PDF (multipart `file`): its
    hash compared with every issued PDF, and its signature validated."""
    report = report_get_by_verification(verification_id=verification_id)
    if (file.size or 0) > MAX_UPLOAD_BYTES:
        raise ValidationFailed(
            _("El archivo es demasiado grande (máx. 25 MB)."),
            errors={"file": [_("Máximo 25 MB.")]},
        )
    upload = report_upload_check(report=report, data=b"".join(file.chunks()))
    verification = report_verification(report=report, sha256=upload.sha256)
    verification.match = upload.match
    return {
        **verification.as_dict(),
        "signature": report_signature_facts(report=report).as_dict(),
        "upload": upload.as_dict(),
    }


def _json(body: dict[str, Any], *, status: int) -> HttpResponse:
    from django.http import JsonResponse

    return JsonResponse(body, status=status)
