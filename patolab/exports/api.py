"""`POST /api/v1/exports` and the download of its file (API.md "Statistics and
exports")."""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from django.http import HttpResponse
from django.http.response import HttpResponseBase
from ninja import Router, Schema

from patolab.accounts.permissions import AuthenticatedHttpRequest, require_role
from patolab.core.api import role_auth
from patolab.core.files import file_response
from patolab.jobs.api import job_accepted

from .selectors import export_get_for
from .services import export_filename, export_request

router = Router(tags=["exports"])


class ExportIn(Schema):
    format: Literal["csv", "xlsx"]
    dataset: Literal["protocols", "workorders"] = "protocols"
    filters: dict[str, Any] = {}
    separator: Literal[",", ";"] = ","


@router.post("/exports", auth=role_auth(), url_name="export_create")
def export_create(request: AuthenticatedHttpRequest, payload: ExportIn) -> HttpResponse:
    """202 job (admins). Unknown filter keys, bad values or a bad format: 400.
    The job's result is `{"rows", "file_url"}`; the requester is e-mailed."""
    require_role(request.user)
    job = export_request(
        user=request.user,
        dataset=payload.dataset,
        format=payload.format,
        filters=payload.filters,
        separator=payload.separator,
    )
    return job_accepted(job)


@router.get("/exports/{export_id}/file", url_name="export_file")
def export_file(request: AuthenticatedHttpRequest, export_id: UUID) -> HttpResponseBase:
    """The file, for its requester and admins; 404 for anyone else or once
    expired."""
    export = export_get_for(user=request.user, pk=export_id)
    return file_response(
        request,
        path=export.file,
        sha256=export.sha256,
        filename=export_filename(export=export),
        content_type=export.content_type,
        inline=False,
    )
