from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from patolab.accounts.permissions import AuthenticatedHttpRequest, role_required
from patolab.core.errors import DomainError

from .monitor import queue_depths, recent_failures
from .selectors import job_get_for, job_list_for
from .services import job_retry


@login_required
def job_detail(request: AuthenticatedHttpRequest, pk: str) -> HttpResponse:
    job = job_get_for(user=request.user, pk=pk)
    template = (
        "jobs/_job_status.html"
        if request.headers.get("HX-Request")
        else "jobs/job_detail.html"
    )
    return render(request, template, {"job": job})


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
