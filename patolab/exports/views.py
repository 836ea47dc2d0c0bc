"""Export pages: start an export from a list (with its current filters) and
download a finished file."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from patolab.accounts.permissions import (
    STAFF_ROLES,
    AuthenticatedHttpRequest,
    role_required,
)
from patolab.core.errors import DomainError
from patolab.core.files import file_response

from .datasets import dataset_filter_keys
from .forms import ExportForm
from .selectors import export_get_for
from .services import export_filename, export_request


@require_POST
@role_required(*STAFF_ROLES)
def export_start(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = ExportForm(request.POST)
    back = request.POST.get("next", "/")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = "/"
    if not form.is_valid():
        messages.error(request, form.errors.as_text())
        return redirect(back)
    fmt = form.cleaned_data["format"]
    dataset = form.cleaned_data["dataset"]
    # The list's filter fields, as its filter form reads them; anything else in
    # the list's URL (page, sort) does not change which rows are exported.
    filters = {
        key: request.POST[key]
        for key in dataset_filter_keys(dataset)
        if request.POST.get(key, "") != ""
    }
    try:
        job = export_request(
            user=request.user,
            dataset=dataset,
            format=fmt.rstrip(";"),
            separator=";" if fmt.endswith(";") else ",",
            filters=filters,
        )
    except DomainError as exc:
        detail = "; ".join(m for msgs in exc.errors.values() for m in msgs)
        messages.error(request, f"{exc.message} {detail}".strip())
        return redirect(back)
    return redirect("jobs:detail", pk=job.pk)


@login_required
def export_download(request: AuthenticatedHttpRequest, pk: str) -> HttpResponseBase:
    export = export_get_for(user=request.user, pk=pk)
    return file_response(
        request,
        path=export.file,
        sha256=export.sha256,
        filename=export_filename(export=export),
        content_type=export.content_type,
        inline=False,
    )
