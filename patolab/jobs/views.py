from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from patolab.accounts.permissions import AuthenticatedHttpRequest, role_required
from patolab.core.documents import (
    DocumentKind,
    DocumentState,
    document_get_or_start,
    document_kind_get,
    document_status,
)
from patolab.core.errors import DomainError

from .monitor import queue_depths, recent_failures
from .selectors import job_bulk_banner_for, job_get_for, job_list_for
from .services import job_retry


@login_required
def job_detail(request: AuthenticatedHttpRequest, pk: str) -> HttpResponse:
    job = job_get_for(user=request.user, pk=pk)
    template = (
        "jobs/_job_status.html"
        if request.headers.get("HX-Request")
        else "jobs/job_detail.html"
    )
    # Admin bulk actions send people here with the changelist to go back to.
    back = request.GET.get("volver", "")
    if not (
        back.startswith("/")
        and url_has_allowed_host_and_scheme(back, allowed_hosts=None)
    ):
        back = ""
    return render(request, template, {"job": job, "back_url": back})


@role_required()
def job_admin_banner(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The polling fragment of the admin changelists' bulk-jobs banner."""
    return render(
        request,
        "admin/jobs/_bulk_jobs_banner.html",
        {"bulk_jobs": job_bulk_banner_for(user=request.user)},
    )


@login_required
def job_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    from django.core.paginator import Paginator

    jobs = job_list_for(user=request.user, state=request.GET.get("state", ""))
    page = Paginator(jobs, 25).get_page(request.GET.get("page"))
    return render(request, "jobs/job_list.html", {"page": page})


@role_required()
def job_monitor(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(
        request,
        "jobs/monitor.html",
        {"queues": queue_depths(), "failures": recent_failures()},
    )


@require_POST
@role_required()
def job_retry_view(request: AuthenticatedHttpRequest, pk: str) -> HttpResponse:
    job = job_get_for(user=request.user, pk=pk)
    try:
        job = job_retry(job=job, user=request.user)
        messages.success(request, _("El trabajo se volvió a poner en cola."))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("jobs:detail", pk=job.pk)


# ---------------------------------------------------------------- documents
def document_context(
    kind: DocumentKind[Any, Any],
    target: Any,
    state: DocumentState[Any] | None,
    *,
    error: str = "",
) -> dict[str, Any]:
    """Context of the one pending partial (`jobs/_document.html`)."""
    document, job = state if state is not None else (None, None)
    return {
        "kind": kind,
        "target": target,
        "document": document,
        "job": job,
        "error": error,
        "polling": not error and document is None and job is not None and job.is_active,
        "status_url": reverse(
            "jobs:document-status", kwargs={"kind": kind.name, "pk": target.pk}
        ),
        "download_url": reverse(kind.url_name, kwargs={"pk": target.pk}),
        "heading": kind.heading,
        "pending_text": kind.pending_text,
        "download_text": kind.download_text,
    }


def document_pending_page(
    request: HttpRequest,
    kind: DocumentKind[Any, Any],
    target: Any,
    state: DocumentState[Any] | None,
    *,
    title: str,
    error: str = "",
    back_url: str = "",
    status: int = 200,
) -> HttpResponse:
    """The full page a browser gets from a document URL whose file is not ready
    (or cannot be made, with `error`): the pending partial, which follows the job."""
    context = {
        **document_context(kind, target, state, error=error),
        "title": title,
        "back_url": back_url,
    }
    return render(request, "jobs/document_pending.html", context, status=status)


@require_http_methods(["GET", "POST"])
@login_required
def document_status_view(
    request: AuthenticatedHttpRequest, kind: str, pk: str
) -> HttpResponse:
    """The one polling view of every document kind. GET is read-only: 204 while
    the job runs (htmx keeps the page as it is), otherwise the partial with the
    download link, the job's error, or a "generate" button. POST (that button,
    or "retry" after a failure) starts or joins the job. Visibility is the
    kind's own selector (404 for what the user may not see)."""
    try:
        spec = document_kind_get(kind)
    except LookupError:
        raise Http404 from None
    target = spec.get_for(request.user, pk)
    try:
        if request.method == "POST":
            state = document_get_or_start(spec, target, user=request.user)
        else:
            state = document_status(spec, target)
    except DomainError as exc:
        context = document_context(spec, target, None, error=exc.message)
        return render(request, "jobs/_document.html", context, status=exc.status_code)
    if request.method == "GET" and state.pending:
        return HttpResponse(status=204)
    return render(request, "jobs/_document.html", document_context(spec, target, state))
