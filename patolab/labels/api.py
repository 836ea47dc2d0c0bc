"""Label endpoints (API.md): the label PDF of a protocol and batch sheets."""

from __future__ import annotations

from django.http.response import HttpResponseBase
from ninja import Router, Schema

from patolab.accounts.permissions import (
    STAFF_ROLES,
    AuthenticatedHttpRequest,
    require_role,
)
from patolab.core.api import role_auth
from patolab.core.documents import document_serve_current
from patolab.jobs.api import document_answer, job_accepted

from .jobs import LABEL_DOCUMENT
from .selectors import label_protocol_get
from .services import label_get_or_start, start_label_batch

router = Router(tags=["labels"])


class LabelBatchIn(Schema):
    protocol_ids: list[int]


@router.get(
    "/protocols/{protocol_id}/label.pdf",
    url_name="protocol_label_pdf",
)
def protocol_label_pdf(
    request: AuthenticatedHttpRequest, protocol_id: int
) -> HttpResponseBase:
    """200 PDF when current (ETag = SHA-256, 304 on match); 202 `{"job"}` while
    (re)generating. Staff only; 409 for a protocol not received yet."""
    require_role(request.user, *STAFF_ROLES)
    current = document_serve_current(request, LABEL_DOCUMENT, pk=protocol_id)
    if current is not None:
        return current
    protocol = label_protocol_get(pk=protocol_id)
    state = label_get_or_start(protocol=protocol, user=request.user)
    return document_answer(request, LABEL_DOCUMENT, protocol, state)


@router.post("/labels", auth=role_auth(*STAFF_ROLES), url_name="label_batch")
def label_batch(
    request: AuthenticatedHttpRequest, payload: LabelBatchIn
) -> HttpResponseBase:
    """202 job; its result has `file_url` of one PDF with all the labels."""
    require_role(request.user, *STAFF_ROLES)
    return job_accepted(
        start_label_batch(protocol_ids=payload.protocol_ids, user=request.user)
    )
