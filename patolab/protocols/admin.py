"""Django admin. Status changes go through the services (no bulk updates that
skip the state machine): status is read-only here."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy as _

from patolab.core.errors import DomainError
from patolab.labels.services import start_label_batch

from .models import Counter, Protocol, ProtocolStatus, ProtocolStatusHistory, Reception
from .services import protocol_transition


class HistoryInline(admin.TabularInline):
    model = ProtocolStatusHistory
    extra = 0
    can_delete = False
    fields = ("changed_at", "from_status", "to_status", "changed_by", "note")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReceptionInline(admin.StackedInline):
    model = Reception
    extra = 0
    can_delete = False
    readonly_fields = ("received_by", "received_at")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _transition_action(to_status: str, label: Any) -> Any:
    def action(
        modeladmin: Any, request: HttpRequest, queryset: QuerySet[Protocol]
    ) -> None:
        ok = 0
        for protocol in queryset:
            try:
                protocol_transition(
                    protocol=protocol, to_status=to_status, user=request.user
                )
                ok += 1
            except DomainError as exc:
                modeladmin.message_user(request, exc.message, messages.ERROR)
        modeladmin.message_user(
            request, _("%(n)d protocolos actualizados.") % {"n": ok}
        )

    action.__name__ = f"move_to_{to_status}"
    action.short_description = label  # type: ignore[attr-defined]
    return action


@admin.register(Protocol)
class ProtocolAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "temporary_code",
        "analysis_type",
        "status",
        "animal_name",
        "species",
        "veterinarian",
        "submitted_at",
        "received_at",
    )
    list_filter = ("status", "analysis_type", "species", "academic_interest")
    search_fields = (
        "protocol_number",
        "temporary_code",
        "animal_name",
        "owner_name",
        "veterinarian__full_name",
        "veterinarian__user__username",
    )
    date_hierarchy = "submitted_at"
    list_select_related = ("veterinarian",)
    readonly_fields = (
        "status",
        "temporary_code",
        "protocol_number",
        "submitted_at",
        "received_at",
        "report_sent_at",
        "created_by",
        "created_at",
        "updated_at",
    )
    raw_id_fields = ("veterinarian",)
    inlines = (ReceptionInline, HistoryInline)
    actions = [
        _transition_action(ProtocolStatus.PROCESSING, _("Pasar a «En procesamiento»")),
        _transition_action(ProtocolStatus.READY, _("Pasar a «Listo para informe»")),
        _transition_action(ProtocolStatus.CANCELLED, _("Cancelar")),
        "print_labels",
    ]

    @admin.action(description=_("Imprimir etiquetas (un PDF con todas)"))
    def print_labels(self, request: HttpRequest, queryset: Any) -> HttpResponse | None:
        try:
            job = start_label_batch(
                protocol_ids=list(queryset.values_list("pk", flat=True)),
                user=request.user,
            )
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return None
        return redirect("jobs:detail", pk=job.pk)

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Protocols are created through the submission form/API (numbering, e-mails).
        return False


@admin.register(Reception)
class ReceptionAdmin(admin.ModelAdmin):
    list_display = (
        "protocol",
        "sample_condition",
        "containers_received",
        "received_by",
        "received_at",
    )
    list_filter = ("sample_condition",)
    search_fields = ("protocol__protocol_number", "protocol__temporary_code")
    raw_id_fields = ("protocol",)
    readonly_fields = ("protocol", "received_by", "received_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(ProtocolStatusHistory)
class ProtocolStatusHistoryAdmin(admin.ModelAdmin):
    list_display = ("protocol", "from_status", "to_status", "changed_by", "changed_at")
    list_filter = ("to_status",)
    search_fields = ("protocol__protocol_number", "protocol__temporary_code")
    readonly_fields = (
        "protocol",
        "from_status",
        "to_status",
        "changed_by",
        "changed_at",
        "note",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Counter)
class CounterAdmin(admin.ModelAdmin):
    list_display = ("key", "value")
    search_fields = ("key",)
    # Editing a counter by hand would break gap-free numbering.
    readonly_fields = ("key", "value")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
