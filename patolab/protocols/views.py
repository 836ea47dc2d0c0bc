"""HTML views: validate with a form, call one service or selector, render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.forms.models import model_to_dict
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from patolab.accounts.models import Role
from patolab.accounts.permissions import (
    INTERNAL_ROLES,
    STAFF_ROLES,
    has_role,
    profile_required,
    role_required,
)
from patolab.core.documents import document_response
from patolab.core.errors import DomainError, ValidationFailed
from patolab.jobs.views import document_pending_page

from .forms import (
    CytologyForm,
    HistopathologyForm,
    LookupForm,
    ProtocolFilterForm,
    ReceiveForm,
    RejectForm,
    StatusForm,
    apply_domain_errors,
    protocol_form_class,
)
from .jobs import SLIP
from .models import ProtocolStatus, SampleCondition
from .selectors import (
    protocol_batch_rows,
    protocol_emails,
    protocol_get_for,
    protocol_list_for,
    protocol_lookup,
    protocol_pending_items,
    protocol_pending_reception,
    protocol_rows,
    protocol_slip_get_for,
    protocol_timeline,
    protocol_with_report_pdf,
    reception_history,
)
from .services import (
    protocol_allowed_transitions,
    protocol_cancel,
    protocol_create,
    protocol_receive,
    protocol_receive_batch_start,
    protocol_reject,
    protocol_save_draft,
    protocol_slip_get_or_start,
    protocol_status_change,
    protocol_submit,
)
from .trail import protocol_audit_trail

PAGE_SIZE = 25


def _page(request: HttpRequest, items: Any, size: int = PAGE_SIZE) -> Any:
    return Paginator(items, size).get_page(request.GET.get("page"))


def _is_staff(user: Any) -> bool:
    return bool(user.is_lab_staff or user.is_admin_role)


@login_required
def protocol_list(request: HttpRequest) -> HttpResponse:
    form = ProtocolFilterForm(request.GET or None, user=request.user)
    filters = form.filters() if request.GET else {}
    page = _page(
        request,
        protocol_with_report_pdf(protocol_list_for(user=request.user, filters=filters)),
    )
    return render(
        request,
        "protocols/protocol_list.html",
        {"form": form, "page": page, "rows": protocol_rows(protocols=page)},
    )


def _wants_draft(request: HttpRequest) -> bool:
    return request.POST.get("action") == "draft"


def _submitted_message(request: HttpRequest, protocol: Any) -> None:
    messages.success(
        request,
        _(
            "Protocolo enviado. Código temporal: %(code)s. Imprima el comprobante "
            "y pegue una etiqueta en cada frasco."
        )
        % {"code": protocol.temporary_code},
    )


def _submit(request: HttpRequest, form_class: type, title: str) -> HttpResponse:
    choose_vet = request.user.is_admin_role
    draft = request.method == "POST" and _wants_draft(request)
    form = form_class(request.POST or None, choose_vet=choose_vet, draft=draft)
    if request.method == "POST" and form.is_valid():
        vet = (
            form.cleaned_data["veterinarian"]
            if choose_vet
            else request.user.veterinarian
        )
        try:
            if draft:
                protocol = protocol_save_draft(
                    veterinarian=vet, created_by=request.user, **form.service_data()
                )
            else:
                protocol = protocol_create(
                    veterinarian=vet, created_by=request.user, **form.service_data()
                )
        except DomainError as exc:
            apply_domain_errors(form, exc)
        else:
            if draft:
                messages.success(
                    request,
                    _("Borrador guardado. Puede completarlo y enviarlo más tarde."),
                )
            else:
                _submitted_message(request, protocol)
            return redirect("protocols:protocol-detail", pk=protocol.pk)
    status = 400 if form.is_bound and form.errors else 200
    return render(
        request,
        "protocols/protocol_form.html",
        {"form": form, "title": title},
        status=status,
    )


def _draft_form(protocol: Any, *, data: Any = None, draft: bool = False) -> Any:
    form_class = protocol_form_class(protocol)
    return form_class(data, instance=protocol, draft=draft)


@role_required(Role.VETERINARIAN)
def protocol_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit a draft: save it again, or submit it (every problem shown at once)."""
    protocol = protocol_get_for(user=request.user, pk=pk)
    if not protocol.is_draft:
        messages.info(request, _("El protocolo ya fue enviado: no se puede editar."))
        return redirect("protocols:protocol-detail", pk=protocol.pk)
    draft = request.method == "POST" and _wants_draft(request)
    form = _draft_form(
        protocol, data=request.POST if request.method == "POST" else None, draft=draft
    )
    if request.method == "POST" and form.is_valid():
        try:
            if draft:
                protocol_save_draft(
                    veterinarian=protocol.veterinarian,
                    created_by=request.user,
                    protocol=protocol,
                    **form.service_data(),
                )
            else:
                protocol = protocol_submit(
                    protocol=protocol, user=request.user, **form.service_data()
                )
        except DomainError as exc:
            apply_domain_errors(form, exc)
        else:
            if draft:
                messages.success(request, _("Borrador guardado."))
            else:
                _submitted_message(request, protocol)
            return redirect("protocols:protocol-detail", pk=protocol.pk)
    return render(
        request,
        "protocols/protocol_form.html",
        {
            "form": form,
            "protocol": protocol,
            "title": _("Borrador: %(type)s")
            % {"type": protocol.get_analysis_type_display()},
        },
        status=400 if form.is_bound and form.errors else 200,
    )


@require_POST
@role_required(Role.VETERINARIAN)
def protocol_submit_view(request: HttpRequest, pk: int) -> HttpResponse:
    """ "Enviar" on a draft's page. Incomplete: the edit form with every error."""
    protocol = protocol_get_for(user=request.user, pk=pk)
    try:
        protocol = protocol_submit(protocol=protocol, user=request.user)
    except ValidationFailed:
        form = _draft_form(protocol, data=_form_values(protocol))
        form.is_valid()
        return render(
            request,
            "protocols/protocol_form.html",
            {
                "form": form,
                "protocol": protocol,
                "title": _("Borrador: %(type)s")
                % {"type": protocol.get_analysis_type_display()},
            },
            status=400,
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        _submitted_message(request, protocol)
    return redirect("protocols:protocol-detail", pk=protocol.pk)


def _form_values(protocol: Any) -> dict[str, Any]:
    """The draft's stored values as form data (to show what is missing)."""
    form_class = protocol_form_class(protocol)
    values = model_to_dict(protocol, fields=form_class.Meta.fields)
    return {
        name: ("" if value is None else value)
        for name, value in values.items()
        if value is not False
    }


@require_POST
@role_required(Role.VETERINARIAN)
def protocol_cancel_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The veterinarian withdraws a protocol before reception (or drops a draft)."""
    protocol = protocol_get_for(user=request.user, pk=pk)
    try:
        protocol_cancel(
            protocol=protocol,
            user=request.user,
            reason=request.POST.get("reason", ""),
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("Protocolo %(code)s cancelado.") % {"code": protocol.code},
        )
    return redirect("protocols:protocol-detail", pk=protocol.pk)


@role_required(Role.VETERINARIAN)
@profile_required
def protocol_create_histopathology(request: HttpRequest) -> HttpResponse:
    return _submit(request, HistopathologyForm, _("Nuevo protocolo de histopatología"))


@role_required(Role.VETERINARIAN)
@profile_required
def protocol_create_cytology(request: HttpRequest) -> HttpResponse:
    return _submit(request, CytologyForm, _("Nuevo protocolo de citología"))


@login_required
def protocol_detail(request: HttpRequest, pk: int) -> HttpResponse:
    protocol = protocol_get_for(user=request.user, pk=pk)
    staff = _is_staff(request.user)
    context = {
        "protocol": protocol,
        "timeline": protocol_timeline(protocol=protocol, user=request.user),
        "reception": getattr(protocol, "reception", None),
        "row": protocol_rows(protocols=[protocol])[0],
        "is_staff": staff,
        # Manual targets: reception, rejection and report sending have their own flows.
        "actions": [
            (value, ProtocolStatus(value).label)
            for value in protocol_allowed_transitions(protocol=protocol)
            if value
            not in (
                ProtocolStatus.RECEIVED,
                ProtocolStatus.REJECTED,
                ProtocolStatus.REPORT_SENT,
            )
        ]
        if staff
        else [],
        "emails": protocol_emails(protocol=protocol) if staff else [],
        "audit_trail": protocol_audit_trail(protocol=protocol)
        if has_role(request.user, *INTERNAL_ROLES)
        else None,
    }
    return render(request, "protocols/protocol_detail.html", context)


@require_POST
@role_required(*STAFF_ROLES)
def protocol_status_action(request: HttpRequest, pk: int) -> HttpResponse:
    protocol = protocol_get_for(user=request.user, pk=pk)
    form = StatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Estado inválido."))
    else:
        try:
            protocol_status_change(
                protocol=protocol,
                to_status=form.cleaned_data["status"],
                user=request.user,
                note=form.cleaned_data["note"],
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Estado actualizado."))
    return redirect("protocols:protocol-detail", pk=protocol.pk)


@role_required(*STAFF_ROLES)
def reception_search(request: HttpRequest) -> HttpResponse:
    # GET so that a scanner typing the code + Enter lands here directly.
    form = LookupForm(request.GET if "code" in request.GET else None)
    if form.is_bound and form.is_valid():
        protocol = protocol_lookup(code=form.cleaned_data["code"])
        if protocol is None:
            form.add_error(
                "code",
                _("No se encontró ningún protocolo con el código «%(code)s».")
                % {"code": form.cleaned_data["code"].strip()},
            )
            # Empty field, focused: the next scan must not be appended to this one.
            form.data = {"code": ""}
        elif protocol.status == ProtocolStatus.SUBMITTED:
            return redirect("protocols:protocol-receive", pk=protocol.pk)
        else:
            messages.info(
                request,
                _("El protocolo %(code)s está «%(status)s».")
                % {"code": protocol.code, "status": protocol.get_status_display()},
            )
            return redirect("protocols:protocol-detail", pk=protocol.pk)
    pending = protocol_pending_reception()
    return render(
        request,
        "protocols/reception_search.html",
        {"form": form, "pending_count": pending.count()},
    )


@role_required(*STAFF_ROLES)
def protocol_receive_view(request: HttpRequest, pk: int) -> HttpResponse:
    protocol = protocol_get_for(user=request.user, pk=pk)
    form = ReceiveForm(
        request.POST or None,
        initial={"containers": protocol.declared_count, "sample_condition": "optimal"},
    )
    if request.method == "POST" and form.is_valid():
        try:
            protocol = protocol_receive(
                protocol=protocol, received_by=request.user, **form.cleaned_data
            )
        except DomainError as exc:
            apply_domain_errors(form, exc)
        else:
            messages.success(
                request,
                format_html(
                    '{} <a href="{}">{}</a>',
                    _("Protocolo recibido con el número %(number)s.")
                    % {"number": protocol.protocol_number},
                    reverse("labels:protocol-pdf", kwargs={"pk": protocol.pk}),
                    _("Imprimir sus etiquetas"),
                ),
            )
            # Back to the scanner field, ready for the next sample.
            return redirect("protocols:reception")
    return render(
        request, "protocols/receive_form.html", {"form": form, "protocol": protocol}
    )


@role_required(*STAFF_ROLES)
def protocol_reject_view(request: HttpRequest, pk: int) -> HttpResponse:
    protocol = protocol_get_for(user=request.user, pk=pk)
    form = RejectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            protocol_reject(
                protocol=protocol,
                rejected_by=request.user,
                reason=form.cleaned_data["reason"],
            )
        except DomainError as exc:
            apply_domain_errors(form, exc)
        else:
            messages.success(
                request, _("Protocolo rechazado; se avisó al veterinario/a.")
            )
            return redirect("protocols:protocol-detail", pk=protocol.pk)
    return render(
        request, "protocols/reject_form.html", {"form": form, "protocol": protocol}
    )


@role_required(*STAFF_ROLES)
def reception_pending(request: HttpRequest) -> HttpResponse:
    page = _page(request, protocol_pending_reception(), 50)
    items = protocol_pending_items(protocols=page)
    return render(
        request, "protocols/reception_pending.html", {"page": page, "items": items}
    )


@role_required(*STAFF_ROLES)
def reception_history_view(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "")
    page = _page(request, reception_history(filters={"q": q}))
    return render(request, "protocols/reception_history.html", {"page": page, "q": q})


@require_GET
@login_required
def protocol_slip_pdf(request: HttpRequest, pk: int) -> HttpResponseBase:
    """The submission slip PDF when current; otherwise a page following its job."""
    protocol = protocol_slip_get_for(user=request.user, pk=pk)
    back = reverse("protocols:protocol-detail", kwargs={"pk": protocol.pk})
    try:
        state = protocol_slip_get_or_start(protocol=protocol, user=request.user)
    except DomainError as exc:
        return document_pending_page(
            request,
            SLIP,
            protocol,
            None,
            title=_("Comprobante de remisión"),
            error=exc.message,
            back_url=back,
            status=exc.status_code,
        )
    if state.document is not None:
        return document_response(request, SLIP, protocol, state.document)
    return document_pending_page(
        request,
        SLIP,
        protocol,
        state,
        title=_("Generando el comprobante…"),
        back_url=back,
    )


# ---------------------------------------------------------------- batch reception
BATCH_SESSION_KEY = "reception_batch"


def _batch_rows_from_post(request: HttpRequest, ids: list[int]) -> list[dict[str, Any]]:
    """The editable values of every row as posted (kept across scans)."""
    rows = []
    for pk in ids:
        rows.append(
            {
                "id": pk,
                "containers": request.POST.get(f"containers_{pk}", ""),
                "sample_condition": request.POST.get(f"condition_{pk}", "optimal"),
                "discrepancies": request.POST.get(f"discrepancies_{pk}", ""),
            }
        )
    return rows


@role_required(*STAFF_ROLES)
def reception_batch(request: HttpRequest) -> HttpResponse:
    """Batch reception (a courier box): each scan adds a row, checked at once
    (unknown, not pending, already in the list); rows are edited or removed;
    "Confirmar N recepciones" starts one job. The list lives in the session."""
    saved: list[dict[str, Any]] = request.session.get(BATCH_SESSION_KEY, [])
    ids = [int(row["id"]) for row in saved]
    rows = _batch_rows_from_post(request, ids) if request.method == "POST" else saved
    form = LookupForm(request.POST if request.method == "POST" else None)
    action = request.POST.get("action", "add")
    if "remove" in request.POST:
        remove = int(request.POST["remove"])
        rows = [row for row in rows if row["id"] != remove]
        form = LookupForm()
    elif request.method == "POST" and action == "confirm":
        try:
            job = protocol_receive_batch_start(
                items=[_batch_item_for_service(row) for row in rows],
                user=request.user,
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            request.session[BATCH_SESSION_KEY] = []
            return redirect("jobs:detail", pk=job.pk)
        form = LookupForm()
    elif request.method == "POST" and form.is_valid():
        protocol = protocol_lookup(code=form.cleaned_data["code"])
        error = _batch_scan_error(protocol, form.cleaned_data["code"], rows)
        if error:
            form.add_error("code", error)
        else:
            assert protocol is not None
            rows.append(
                {
                    "id": protocol.pk,
                    "containers": protocol.declared_count,
                    "sample_condition": "optimal",
                    "discrepancies": "",
                }
            )
        # Ready for the next scan: the field is emptied and keeps the focus.
        form.data = {"code": ""}
    request.session[BATCH_SESSION_KEY] = rows
    protocols = {p.pk: p for p in protocol_batch_rows(ids=[row["id"] for row in rows])}
    table = [
        {**row, "protocol": protocols[row["id"]]}
        for row in rows
        if row["id"] in protocols
    ]
    return render(
        request,
        "protocols/reception_batch.html",
        {"form": form, "rows": table, "conditions": SampleCondition.choices},
    )


def _batch_item_for_service(row: dict[str, Any]) -> dict[str, Any]:
    containers = str(row.get("containers", "")).strip()
    return {
        "protocol_id": int(row["id"]),
        "sample_condition": row.get("sample_condition", ""),
        "containers": int(containers) if containers.isdigit() else None,
        "discrepancies": row.get("discrepancies", ""),
    }


def _batch_scan_error(protocol: Any, code: str, rows: list[dict[str, Any]]) -> str:
    if protocol is None:
        return _("No se encontró ningún protocolo con el código «%(code)s».") % {
            "code": code.strip()
        }
    if any(row["id"] == protocol.pk for row in rows):
        return _("%(code)s ya está en la lista.") % {"code": protocol.code}
    if protocol.status != ProtocolStatus.SUBMITTED:
        return _("%(code)s no se puede recibir: está «%(status)s».") % {
            "code": protocol.code,
            "status": protocol.get_status_display(),
        }
    return ""
