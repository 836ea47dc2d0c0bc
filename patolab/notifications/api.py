from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema

from patolab.jobs.api import job_accepted

from .selectors import email_log_list_for
from .serializers import email_log_to_dict
from .services import notifications_bulk_start

router = Router(tags=["notifications"])


class BulkIn(Schema):
    protocol_ids: list[int]
    email_type: str


@router.get("/emails", url_name="email_list")
def email_list(
    request: HttpRequest,
    protocol_id: int | None = None,
    status: str = "",
    kind: str = "",
    page: int = 1,
    page_size: int = 50,
) -> dict[str, Any]:
    from patolab.core.api import paginate

    qs = email_log_list_for(
        user=request.user, protocol_id=protocol_id, status=status, kind=kind
    )
    return paginate(request, qs, email_log_to_dict, page=page, page_size=page_size)


@router.post("/notifications/bulk", url_name="notifications_bulk")
def notifications_bulk(request: HttpRequest, payload: BulkIn) -> HttpResponse:
    job = notifications_bulk_start(
        protocol_ids=payload.protocol_ids,
        email_type=payload.email_type,
        user=request.user,
    )
    return job_accepted(job)
