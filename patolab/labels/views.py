from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from patolab.accounts.models import Role
from patolab.accounts.permissions import AuthenticatedHttpRequest, role_required
from patolab.core.errors import DomainError
from patolab.core.files import file_response, safe_filename

from .selectors import (
    label_batch_get_for,
    label_last_job,
    label_protocol_get,
    label_protocols_received,
)
from .services import label_document_current, label_get_or_start, start_label_batch


@require_GET
@role_required(Role.LAB_STAFF)
def protocol_label_pdf(request: AuthenticatedHttpRequest, pk: int) -> HttpResponseBase:
    """The stored labels when current; otherwise a page that follows the job."""
    protocol = label_protocol_get(pk=pk)
    try:
        doc, job = label_get_or_start(protocol=protocol, user=request.user)
    except DomainError as exc:
        context = {"protocol": protocol, "error": exc.message}
        return render(
            request, "labels/label_unavailable.html", context, status=exc.status_code
        )
    if doc is not None:
        name = safe_filename(protocol.code, protocol.pk, prefix="etiquetas-")
        return file_response(request, path=doc.file, sha256=doc.sha256, filename=name)
    return render(
        request, "labels/label_pending.html", {"protocol": protocol, "job": job}
    )


@require_GET
@role_required(Role.LAB_STAFF)
def protocol_label_status(
    request: AuthenticatedHttpRequest, pk: int
) -> HttpResponseBase:
    """Polled by the pending page: 204 (htmx keeps waiting) while the job runs;
    the download panel once the labels are current; the job's error if it failed.
    Read-only: polling never starts a job."""
    protocol = label_protocol_get(pk=pk)
    ready = label_document_current(protocol) is not None
    job = None if ready else label_last_job(protocol=protocol)
    if not ready and job is not None and job.is_active:
        return HttpResponse(status=204)
    context = {"protocol": protocol, "ready": ready, "job": job}
    return render(request, "labels/_label_status.html", context)


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
