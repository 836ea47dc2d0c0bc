"""Work-order pages (staff manage; veterinarians read their own)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from patolab.accounts.models import Role, Veterinarian
from patolab.accounts.permissions import role_required
from patolab.core.documents import (
    document_get_or_start,
    document_response,
    document_serve_current,
)
from patolab.core.errors import DomainError
from patolab.jobs.views import document_context

from .forms import (
    LineForm,
    LineFormSet,
    PaymentForm,
    ProtocolSelectForm,
    VeterinarianPickForm,
    WorkOrderFilterForm,
    WorkOrderForm,
)
from .jobs import WORKORDER_DOCUMENT
from .models import WorkOrder, WorkOrderStatus
from .selectors import (
    protocols_billable_rows,
    workorder_get_for,
    workorder_list_for,
)
from .services import (
    LineInput,
    workorder_balance,
    workorder_create,
    workorder_issue,
    workorder_mark_sent,
    workorder_payment_record,
    workorder_update,
)

STAFF = (Role.LAB_STAFF,)
READERS = (Role.LAB_STAFF, Role.VETERINARIAN)


# ---------------------------------------------------------------- helpers
def _line_inputs(formset: Any) -> tuple[list[LineInput], list[LineForm]]:
    """Used line forms (an item chosen, not marked "Quitar"), in order, as
    service inputs (and the forms, so the service's `lines.<n>.<field>` errors
    can be put next to the right field)."""
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


def _lines_formset(request: HttpRequest, initial: Any = None) -> Any:
    """The lines formset; "Agregar línea" (a submit without saving) posts the
    form back with one more empty row, so it works without JavaScript."""
    if request.method != "POST":
        return LineFormSet(prefix="lines", initial=initial)
    data = request.POST
    if "add_line" in data:
        data = data.copy()
        try:
            total = min(int(data.get("lines-TOTAL_FORMS") or 0), 49)
        except ValueError:
            total = 0
        data["lines-TOTAL_FORMS"] = str(total + 1)
        data.setdefault(f"lines-{total}-quantity", "1")
        data.setdefault(f"lines-{total}-discount_percent", "0")
    return LineFormSet(data, prefix="lines", initial=initial)


def _show_errors(
    exc: DomainError,
    form: Any,
    line_forms: list[LineForm],
    fallback: str,
    protocols_form: Any = None,
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
        if exc.status_code == 409:
            msgs = [exc.message]
        if key == "protocol_ids" and protocols_form is not None:
            for msg in msgs:
                protocols_form.add_error("protocols", msg)
            continue
        field = key if key in form.fields else None
        if field is None and key != "lines" and fallback in form.fields:
            field = fallback
        for msg in msgs:
            form.add_error(field, msg)


def _problems(*forms: Any, formset: Any = None) -> list[dict[str, str]]:
    """Every error of the page, for the summary at the top: a link to the
    field (or the protocol table) and the message."""
    found: list[dict[str, str]] = []
    for form in forms:
        if form is None or not form.is_bound:
            continue
        for message in form.non_field_errors():
            found.append({"anchor": "", "text": str(message)})
        for name, errors in form.errors.items():
            if name == "__all__":
                continue
            anchor = "protocols" if name == "protocols" else form[name].auto_id
            for message in errors:
                found.append(
                    {"anchor": anchor, "label": str(form[name].label), "text": message}
                )
    if formset is not None and formset.is_bound:
        for message in formset.non_form_errors():
            found.append({"anchor": "lines", "text": str(message)})
        for number, line in enumerate(formset.forms, start=1):
            for name, errors in line.errors.items():
                label = _("Línea %(n)s") % {"n": number}
                anchor = line[name].auto_id if name in line.fields else "lines"
                if name in line.fields and name != "__all__":
                    label = f"{label}, {line[name].label}"
                for message in errors:
                    # The service's line messages already start "Línea N: …".
                    named = message.startswith(_("Línea %(n)s") % {"n": number})
                    found.append(
                        {
                            "anchor": anchor,
                            "label": "" if named else label,
                            "text": message,
                        }
                    )
    return found


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
    data = request.POST if request.method == "POST" else None
    choose = ProtocolSelectForm(
        data, veterinarian=vet, initial={"auto_protocol_lines": True}
    )
    form = WorkOrderForm(data, initial={"billing_name": vet.full_name})
    formset = _lines_formset(request)
    ready = data is not None and "add_line" not in data
    if ready and choose.is_valid() and form.is_valid() and formset.is_valid():
        lines, line_forms = _line_inputs(formset)
        try:
            wo = workorder_create(
                veterinarian=vet,
                protocols=list(choose.cleaned_data["protocols"]),
                lines=lines,
                auto_protocol_lines=choose.cleaned_data["auto_protocol_lines"],
                tax_condition=form.cleaned_data["tax_condition"],
                billing_name=form.cleaned_data["billing_name"],
                cuit=form.cleaned_data["cuit"],
                advance_payment=form.cleaned_data["advance_payment"] or 0,
                notes=form.cleaned_data["notes"],
                created_by=request.user,
            )
        except DomainError as exc:
            _show_errors(exc, form, line_forms, "notes", protocols_form=choose)
        else:
            messages.success(request, _("Orden %(n)s creada.") % {"n": wo.number})
            return redirect("workorders:detail", pk=wo.pk)
    selected = {str(v) for v in (choose["protocols"].value() or [])}
    return render(
        request,
        "workorders/create.html",
        {
            "pick": pick,
            "vet": vet,
            "choose": choose,
            "form": form,
            "formset": formset,
            "rows": protocols_billable_rows(veterinarian=vet),
            "selected": selected,
            "problems": _problems(choose, form, formset=formset) if ready else [],
        },
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
            "payment_form": PaymentForm(
                initial={"paid_on": timezone.localdate()}, auto_id="payment_%s"
            ),
            "balance": workorder_balance(work_order=wo),
        },
    )


@role_required(*READERS)
def workorder_pdf(request: HttpRequest, pk: int) -> HttpResponseBase:
    """Serve the current PDF (ETag = SHA-256, 304); if it is not ready, start or
    join its job and go to the detail page, which shows the live status."""
    current = document_serve_current(request, WORKORDER_DOCUMENT, pk=pk)
    if current is not None:
        return current
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
    if wo.status != WorkOrderStatus.DRAFT:
        # Issued: say so, instead of a form that would refuse on save.
        return render(request, "workorders/edit_locked.html", {"wo": wo})
    data = request.POST if request.method == "POST" else None
    form = WorkOrderForm(
        data,
        initial={
            "tax_condition": wo.tax_condition,
            "billing_name": wo.billing_name,
            "cuit": wo.cuit,
            "advance_payment": wo.advance_payment,
            "notes": wo.notes,
        },
    )
    formset = _lines_formset(request, initial=_edit_initial_lines(wo))
    ready = data is not None and "add_line" not in data
    if ready and form.is_valid() and formset.is_valid():
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
        request,
        "workorders/edit.html",
        {
            "wo": wo,
            "form": form,
            "formset": formset,
            "problems": _problems(form, formset=formset) if ready else [],
        },
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
    wo = workorder_get_for(user=request.user, pk=pk)
    form = PaymentForm(request.POST, auto_id="payment_%s")
    if form.is_valid():
        try:
            workorder_payment_record(
                work_order=wo,
                amount=form.cleaned_data["amount"],
                paid_on=form.cleaned_data["paid_on"],
                user=request.user,
            )
        except DomainError as exc:
            for name, errors in (exc.errors or {None: [exc.message]}).items():
                for message in errors:
                    form.add_error(name if name in form.fields else None, message)
        else:
            messages.success(request, _("Pago registrado."))
            return redirect("workorders:detail", pk=wo.pk)
    state = document_get_or_start(WORKORDER_DOCUMENT, wo, user=request.user)
    return render(
        request,
        "workorders/detail.html",
        {
            **document_context(WORKORDER_DOCUMENT, wo, state),
            "wo": wo,
            "payment_form": form,
            "balance": workorder_balance(work_order=wo),
        },
        status=400,
    )
