from __future__ import annotations

from typing import Any
from uuid import UUID

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from ninja import Router

from patolab.accounts.permissions import AuthenticatedHttpRequest, require_role
from patolab.core.api import paginate
from patolab.core.documents import DocumentKind, DocumentState, document_response

from .models import Job
from .selectors import job_get_for, job_list_for
from .serializers import job_to_dict
from .services import job_retry

router = Router(tags=["jobs"])


def job_accepted(
    job: Job, *, status: int = 202, extra: dict[str, Any] | None = None
) -> HttpResponse:
    """202 with the job object and a Location header (API.md)."""
    job_dict = job_to_dict(job)
    body = job_dict if extra is None else {**extra, "job": job_dict}
    response = JsonResponse(body, status=status)
    response["Location"] = job_dict["url"]
    return response


def document_pending(job: Job, *, retry_after: int = 1) -> HttpResponse:
    """API.md "Documents": 202 `{"job": ...}` with Retry-After while a PDF is
    being (re)generated."""
    response = job_accepted(job, extra={})
    response["Retry-After"] = str(retry_after)
    return response


def document_answer(
    request: HttpRequest,
    kind: DocumentKind[Any, Any],
    target: Any,
    state: DocumentState[Any],
) -> HttpResponseBase:
    """API.md "Documents": 200 with the current file (ETag = SHA-256, 304 on
    If-None-Match), or 202 `{"job"}` + Retry-After while it is being made."""
    if state.document is not None:
        return document_response(request, kind, target, state.document)
    return document_pending(state.job)


@router.get("", url_name="job_list")
def job_list(
    request: AuthenticatedHttpRequest,
    state: str = "",
    kind: str = "",
    page: int = 1,
    page_size: int = 50,
) -> dict[str, Any]:
    qs = job_list_for(user=request.user, state=state, kind=kind)
    return paginate(request, qs, job_to_dict, page=page, page_size=page_size)


@router.get("/{job_id}", url_name="job_get")
def job_get(request: AuthenticatedHttpRequest, job_id: UUID) -> dict[str, Any]:
    return job_to_dict(job_get_for(user=request.user, pk=job_id))


@router.post("/{job_id}/retry", url_name="job_retry")
def job_retry_endpoint(request: AuthenticatedHttpRequest, job_id: UUID) -> HttpResponse:
    job = job_get_for(user=request.user, pk=job_id)
    require_role(request.user)
    return job_accepted(job_retry(job=job, user=request.user))
