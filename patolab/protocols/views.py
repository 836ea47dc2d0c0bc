"""HTML views: validate with a form, call one service or selector, render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from patolab.accounts.models import Role
from patolab.accounts.permissions import STAFF_ROLES, profile_required, role_required
from patolab.core.errors import DomainError

from .forms import (
    CytologyForm,
    HistopathologyForm,
    LookupForm,
    ProtocolFilterForm,
    ReceiveForm,
    RejectForm,
    StatusForm,
    apply_domain_errors,
)
from .models import ProtocolStatus
from .selectors import (
    protocol_emails,
    protocol_get_for,
    protocol_list_for,
    protocol_lookup,
    protocol_pending_items,
    protocol_pending_reception,
    protocol_rows,
    protocol_timeline,
    reception_history,
)
from .services import (
    protocol_allowed_transitions,
    protocol_create,
    protocol_receive,
    protocol_reject,
    protocol_status_change,
)

PAGE_SIZE = 25


def _page(request: HttpRequest, items: Any, size: int = PAGE_SIZE) -> Any:
    return Paginator(items, size).get_page(request.GET.get("page"))


def _is_staff(user: Any) -> bool:
    return bool(user.is_lab_staff or user.is_admin_role)


@login_required
def protocol_list(request: HttpRequest) -> HttpResponse:
    form = ProtocolFilterForm(request.GET or None, user=request.user)
    filters = form.filters() if request.GET else {}
    page = _page(request, protocol_list_for(user=request.user, filters=filters))
    return render(
        request,
        "protocols/protocol_list.html",
        {"form": form, "page": page, "rows": protocol_rows(protocols=page)},
    )


def _submit(request: HttpRequest, form_class: type, title: str) -> HttpResponse:
    choose_vet = request.user.is_admin_role
    form = form_class(request.POST or None, choose_vet=choose_vet)
    if request.method == "POST" and form.is_valid():
        vet = (
            form.cleaned_data["veterinarian"]
            if choose_vet
            else request.user.veterinarian
        )
        try:
            protocol = protocol_create(
                veterinarian=vet, created_by=request.user, **form.service_data()
            )
        except DomainError as exc:
            apply_domain_errors(form, exc)
        else:
            messages.success(
                request,
                _(
                    "Protocolo enviado. Código temporal: %(code)s. Rotule la muestra "
                    "con este código."
                )
                % {"code": protocol.temporary_code},
            )
            return redirect("protocols:protocol-detail", pk=protocol.pk)
    return render(
        request, "protocols/protocol_form.html", {"form": form, "title": title}
    )


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
                _("Protocolo recibido con el número %(number)s.")
                % {"number": protocol.protocol_number},
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
