"""The statistics page (admins): charts from stored rows and a recompute form."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from patolab.accounts.permissions import AuthenticatedHttpRequest, role_required
from patolab.core.errors import DomainError

from .forms import RecomputeForm
from .selectors import PERIODS, statistics_chart_data
from .services import daily_statistics_request_recompute


def _render(
    request: AuthenticatedHttpRequest, form: RecomputeForm, status: int = 200
) -> HttpResponse:
    try:
        days = int(request.GET.get("days", "30"))
    except ValueError:
        days = 30
    days = days if days in PERIODS else 30
    context = {
        "data": statistics_chart_data(days=days),
        "days": days,
        "periods": PERIODS,
        "form": form,
        "chart_labels": {
            "cytology": _("Citología"),
            "histopathology": _("Histopatología"),
            "received": _("Recibido"),
            "processing": _("En procesamiento"),
            "ready": _("Listo para informe"),
            "target": _("plazo"),
            "reports": _("Informes"),
            "revenue": _("Facturación"),
        },
    }
    return render(request, "stats/statistics.html", context, status=status)


@role_required()
def statistics_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    return _render(request, RecomputeForm())


@require_POST
@role_required()
def statistics_recompute(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = RecomputeForm(request.POST)
    if form.is_valid():
        try:
            job = daily_statistics_request_recompute(
                first=form.cleaned_data["first"],
                last=form.cleaned_data["last"],
                user=request.user,
            )
        except DomainError as exc:
            for field, msgs in exc.errors.items():
                target = {"from": "first", "to": "last"}.get(field)
                for msg in msgs:
                    form.add_error(target, msg)
            if not exc.errors:
                form.add_error(None, exc.message)
        else:
            return redirect("jobs:detail", pk=job.pk)
    messages.error(request, form.non_field_errors().as_text() or "")
    return _render(request, form, status=400)
