"""Work-order pages (staff manage; veterinarians read their own)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from patolab.accounts.models import Role, Veterinarian
from patolab.accounts.permissions import role_required
from patolab.core.documents import document_get_or_start, document_response
from patolab.core.errors import DomainError
from patolab.jobs.views import document_context

from .forms import (
    LineForm,
    LineFormSet,
    PaymentForm,
    VeterinarianPickForm,
    WorkOrderEditForm,
    WorkOrderFilterForm,
    WorkOrderForm,
)
from .jobs import WORKORDER_DOCUMENT
from .models import WorkOrder
from .selectors import workorder_get_for, workorder_list_for
from .services import (
    LineInput,
    workorder_create,
    workorder_issue,
    workorder_mark_sent,
    workorder_set_payment_status,
    workorder_update,
)

STAFF = (Role.LAB_STAFF,)
READERS = (Role.LAB_STAFF, Role.VETERINARIAN)


# ---------------------------------------------------------------- helpers
def _line_inputs(formset: Any) -> tuple[list[LineInput], list[LineForm]]:
    """Non-blank line forms, in order, as service inputs (and the forms, so the
    service's `lines.<n>.<field>` errors can be put next to the right field)."""
    used = [f for f in formset.forms if not f.is_blank]
    return [
        LineInput(
            code=f.cleaned_data.get("code"),
            quantity=f.cleaned_data.get("quantity"),
            discount_percent=f.cleaned_data.get("discount_percent"),
            protocol_id=f.cleaned_data.get("protocol_id"),
        )
        for f in used
    ], used


def _show_errors(
    exc: DomainError, form: Any, line_forms: list[LineForm], fallback: str
) -> None:
    if not exc.errors:
        form.add_error(None, exc.message)
        return
    for key, msgs in exc.errors.items():
        parts = key.split(".")
        if parts[0] == "lines" and len(parts) == 3 and parts[1].isdigit():
            target = line_forms[int(parts[1])]
            field = parts[2] if parts[2] in target.fields else None
            for msg in msgs:
                target.add_error(field, msg)
            continue
        field = key if key in form.fields else None
        if field is None and key == "protocol_ids" and "protocols" in form.fields:
            field = "protocols"
        if field is None and key != "lines" and fallback in form.fields:
            field = fallback
        if exc.status_code == 409:
            msgs = [exc.message]
        for msg in msgs:
            form.add_error(field, msg)


# ---------------------------------------------------------------- pages
@role_required(*READERS)
def workorder_list(request: HttpRequest) -> HttpResponse:
    filters = WorkOrderFilterForm(request.GET or None)
    data = filters.cleaned_data if filters.is_valid() else {}
    qs = workorder_list_for(user=request.user, filters=data)
    page = Paginator(qs, 25).get_page(request.GET.get("page"))
    return render(request, "workorders/list.html", {"page": page, "filters": filters})


@role_required(*STAFF)
def workorder_create_view(request: HttpRequest) -> HttpResponse:
    pick = VeterinarianPickForm(request.GET or None)
    if not pick.is_valid():
        return render(request, "workorders/create.html", {"pick": pick})
    vet: Veterinarian = pick.cleaned_data["veterinarian"]
    form = WorkOrderForm(
        request.POST or None,
        veterinarian=vet,
        initial={"billing_name": vet.full_name, "auto_protocol_lines": True},
    )
    formset = LineFormSet(request.POST or None, prefix="lines")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        lines, line_forms = _line_inputs(formset)
        try:
            wo = workorder_create(
                veterinarian=vet,
                protocols=list(form.cleaned_data["protocols"]),
                lines=lines,
                auto_protocol_lines=form.cleaned_data["auto_protocol_lines"],
                tax_condition=form.cleaned_data["tax_condition"],
                billing_name=form.cleaned_data["billing_name"],
                cuit=form.cleaned_data["cuit"],
                advance_payment=form.cleaned_data["advance_payment"] or 0,
                notes=form.cleaned_data["notes"],
                created_by=request.user,
            )
        except DomainError as exc:
            _show_errors(exc, form, line_forms, fallback="protocols")
        else:
            messages.success(request, _("Orden %(n)s creada.") % {"n": wo.number})
            return redirect("workorders:detail", pk=wo.pk)
    return render(
        request,
        "workorders/create.html",
        {"pick": pick, "vet": vet, "form": form, "formset": formset},
    )


@role_required(*READERS)
def workorder_detail(request: HttpRequest, pk: int) -> HttpResponse:
    wo = workorder_get_for(user=request.user, pk=pk)
    state = document_get_or_start(WORKORDER_DOCUMENT, wo, user=request.user)
    return render(
        request,
        "workorders/detail.html",
        {
            **document_context(WORKORDER_DOCUMENT, wo, state),
            "wo": wo,
            "payment_form": PaymentForm(initial={"payment_status": wo.payment_status}),
        },
    )


@role_required(*READERS)
def workorder_pdf(request: HttpRequest, pk: int) -> HttpResponseBase:
    """Serve the current PDF (ETag = SHA-256, 304); if it is not ready, start or
    join its job and go to the detail page, which shows the live status."""
    wo = workorder_get_for(user=request.user, pk=pk)
    state = document_get_or_start(WORKORDER_DOCUMENT, wo, user=request.user)
    if state.document is None:
        return redirect("workorders:detail", pk=wo.pk)
    return document_response(request, WORKORDER_DOCUMENT, wo, state.document)


def _edit_initial_lines(wo: WorkOrder) -> list[dict[str, Any]]:
    return [
        {
            "code": line.code,
            "quantity": line.quantity,
            "discount_percent": line.discount_percent,
            "protocol_id": line.protocol_id,
        }
        for line in wo.lines.all()
    ]


@role_required(*STAFF)
def workorder_edit(request: HttpRequest, pk: int) -> HttpResponse:
    wo = workorder_get_for(user=request.user, pk=pk)
    form = WorkOrderEditForm(
        request.POST or None,
        initial={
            "tax_condition": wo.tax_condition,
            "billing_name": wo.billing_name,
            "cuit": wo.cuit,
            "advance_payment": wo.advance_payment,
            "notes": wo.notes,
        },
    )
    formset = LineFormSet(
        request.POST or None, prefix="lines", initial=_edit_initial_lines(wo)
    )
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        lines, line_forms = _line_inputs(formset)
        try:
            workorder_update(
                work_order=wo,
                lines=lines,
                notes=form.cleaned_data["notes"],
                billing_name=form.cleaned_data["billing_name"],
                cuit=form.cleaned_data["cuit"],
                tax_condition=form.cleaned_data["tax_condition"],
                advance_payment=form.cleaned_data["advance_payment"] or 0,
                user=request.user,
            )
        except DomainError as exc:
            _show_errors(exc, form, line_forms, fallback="notes")
        else:
            messages.success(request, _("Orden actualizada."))
            return redirect("workorders:detail", pk=wo.pk)
    return render(
        request, "workorders/edit.html", {"wo": wo, "form": form, "formset": formset}
    )


def _action(request: HttpRequest, pk: int, run: Any, done: str) -> HttpResponse:
    wo = workorder_get_for(user=request.user, pk=pk)
    try:
        run(wo)
        messages.success(request, done)
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("workorders:detail", pk=wo.pk)


@require_POST
@role_required(*STAFF)
def workorder_issue_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _action(
        request,
        pk,
        lambda wo: workorder_issue(work_order=wo, user=request.user),
        _("Orden emitida."),
    )


@require_POST
@role_required(*STAFF)
def workorder_sent_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _action(
        request,
        pk,
        lambda wo: workorder_mark_sent(work_order=wo, user=request.user),
        _("Orden marcada como enviada."),
    )


@require_POST
@role_required(*STAFF)
def workorder_payment_view(request: HttpRequest, pk: int) -> HttpResponse:
    status = request.POST.get("payment_status", "")
    return _action(
        request,
        pk,
        lambda wo: workorder_set_payment_status(
            work_order=wo, payment_status=status, user=request.user
        ),
        _("Estado de pago actualizado."),
    )
