from __future__ import annotations

from django.core.paginator import Paginator
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from patolab.accounts.models import Role
from patolab.accounts.permissions import AuthenticatedHttpRequest, role_required
from patolab.core.documents import document_response, document_serve_current
from patolab.core.errors import DomainError
from patolab.core.files import file_response
from patolab.jobs.views import document_pending_page

from .jobs import LABEL_DOCUMENT
from .selectors import (
    label_batch_get_for,
    label_protocol_get,
    label_protocols_received,
)
from .services import label_get_or_start, start_label_batch


@require_GET
@role_required(Role.LAB_STAFF)
def protocol_label_pdf(request: AuthenticatedHttpRequest, pk: int) -> HttpResponseBase:
    """The stored labels when current; otherwise a page that follows the job."""
    current = document_serve_current(request, LABEL_DOCUMENT, pk=pk)
    if current is not None:
        return current
    protocol = label_protocol_get(pk=pk)
    try:
        state = label_get_or_start(protocol=protocol, user=request.user)
    except DomainError as exc:
        return document_pending_page(
            request,
            LABEL_DOCUMENT,
            protocol,
            None,
            title=_("Etiquetas"),
            error=exc.message,
            back_url=reverse("labels:batch"),
            status=exc.status_code,
        )
    if state.document is not None:
        return document_response(request, LABEL_DOCUMENT, protocol, state.document)
    return document_pending_page(
        request, LABEL_DOCUMENT, protocol, state, title=_("Generando etiquetas…")
    )


@role_required(Role.LAB_STAFF)
def label_batch(request: AuthenticatedHttpRequest) -> HttpResponseBase:
    """ "Imprimir etiquetas": pick received protocols, get one PDF (a job)."""
    error = ""
    selected: list[str] = []
    if request.method == "POST":
        selected = request.POST.getlist("protocol_ids")
        try:
            job = start_label_batch(protocol_ids=selected, user=request.user)
        except DomainError as exc:
            error = exc.message
        else:
            return redirect("jobs:detail", pk=job.pk)
    page = Paginator(label_protocols_received(), 50).get_page(request.GET.get("page"))
    context = {"page": page, "error": error, "selected": selected}
    return render(request, "labels/batch.html", context, status=400 if error else 200)


@require_GET
@role_required(Role.LAB_STAFF)
def label_batch_download(
    request: AuthenticatedHttpRequest, pk: str
) -> HttpResponseBase:
    batch = label_batch_get_for(user=request.user, pk=pk)
    name = f"etiquetas-{batch.created_at:%Y%m%d-%H%M%S}.pdf"
    return file_response(request, path=batch.file, sha256=batch.sha256, filename=name)
