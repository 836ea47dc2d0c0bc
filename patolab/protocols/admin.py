"""Django admin for protocols. Status changes and e-mails go through the
services, and every bulk action is one background job (patolab.jobs.admin_actions):
the request validates and writes one Job row, whatever the selection size.

Safety: numbered protocols, receptions and history are never deleted here
(cancel instead), and a numbered protocol's identity (number, type,
veterinarian, temporary code) is read-only."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from patolab.jobs.admin_actions import BulkJobsBannerMixin, bulk_action_start

from .models import (
    AnalysisType,
    Counter,
    Protocol,
    ProtocolStatus,
    ProtocolStatusHistory,
    Reception,
)
from .services import protocol_bulk_status_start

if TYPE_CHECKING:
    # Generic only in django-stubs; at runtime these take no type arguments.
    ProtocolModelAdmin = admin.ModelAdmin[Protocol]
    HistoryInlineBase = admin.TabularInline[ProtocolStatusHistory, Protocol]
    ReceptionInlineBase = admin.StackedInline[Reception, Protocol]
else:
    ProtocolModelAdmin = admin.ModelAdmin
    HistoryInlineBase = admin.TabularInline
    ReceptionInlineBase = admin.StackedInline


def _ids(queryset: QuerySet[Protocol]) -> list[int]:
    # One query for the ids: the job loads the protocols, not the request.
    return list(queryset.order_by("pk").values_list("pk", flat=True))


class HistoryInline(HistoryInlineBase):
    model = ProtocolStatusHistory
    extra = 0
    can_delete = False
    fields = ("changed_at", "from_status", "to_status", "changed_by", "note")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReceptionInline(ReceptionInlineBase):
    model = Reception
    extra = 0
    can_delete = False
    readonly_fields = ("received_by", "received_at")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _status_action(to_status: str, label: Any) -> Any:
    def action(
        modeladmin: Any, request: HttpRequest, queryset: QuerySet[Protocol]
    ) -> HttpResponse | None:
        return bulk_action_start(
            modeladmin,
            request,
            lambda: protocol_bulk_status_start(
                protocol_ids=_ids(queryset), status=to_status, user=request.user
            ),
        )

    action.__name__ = f"move_to_{to_status}"
    return admin.action(description=label)(action)


# Fields of each analysis type: a histopathology protocol's page shows no
# cytology fields, and the other way round.
CYTOLOGY_FIELDS = ("technique", "sampling_site", "slides")
HISTOPATHOLOGY_FIELDS = ("material_submitted", "containers", "preservation")
IDENTITY_FIELDS = ("protocol_number", "analysis_type", "veterinarian", "temporary_code")


@admin.register(Protocol)
class ProtocolAdmin(BulkJobsBannerMixin, ProtocolModelAdmin):
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
    raw_id_fields = ("veterinarian",)
    inlines = (ReceptionInline, HistoryInline)
    actions = [
        _status_action(ProtocolStatus.PROCESSING, _("Pasar a «En procesamiento»")),
        _status_action(ProtocolStatus.READY, _("Pasar a «Listo para informe»")),
        _status_action(ProtocolStatus.CANCELLED, _("Cancelar")),
        # Added by higher floors: "Imprimir etiquetas" (patolab.labels.admin),
        # "Reenviar el e-mail de recepción / del informe" (patolab.reports.admin).
    ]

    @admin.display(description=_("protocolo"), ordering="protocol_number")
    def code(self, obj: Protocol) -> str:
        return obj.code

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        animal = (
            "species",
            "breed",
            "sex",
            "age",
            "animal_name",
            "owner_name",
        )
        clinical = (
            "presumptive_diagnosis",
            "clinical_history",
            "sample_description",
            "sampling_date",
            "academic_interest",
        )
        fieldsets: list[Any] = [
            (None, {"fields": (*IDENTITY_FIELDS, "status")}),
            (_("Animal"), {"fields": animal}),
            (_("Datos clínicos"), {"fields": clinical}),
        ]
        if obj is None or obj.analysis_type == AnalysisType.CYTOLOGY:
            fieldsets.append((_("Citología"), {"fields": CYTOLOGY_FIELDS}))
        if obj is None or obj.analysis_type == AnalysisType.HISTOPATHOLOGY:
            fieldsets.append((_("Histopatología"), {"fields": HISTOPATHOLOGY_FIELDS}))
        fieldsets.append(
            (
                _("Seguimiento"),
                {
                    "fields": (
                        "submitted_at",
                        "received_at",
                        "report_sent_at",
                        "rejection_reason",
                        "created_by",
                        "created_at",
                        "updated_at",
                    )
                },
            )
        )
        return fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = [
            "status",
            "temporary_code",
            "protocol_number",
            "submitted_at",
            "received_at",
            "report_sent_at",
            "rejection_reason",
            "created_by",
            "created_at",
            "updated_at",
        ]
        if obj is not None and obj.protocol_number:
            fields += ["analysis_type", "veterinarian"]
        return fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Protocols are created through the submission form/API (numbering, e-mails).
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A numbered protocol is part of the lab's record: cancel it instead.
        if obj is not None and obj.protocol_number:
            return False
        return super().has_delete_permission(request, obj)


class NoDeleteAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """History-like rows: written by the services, never added or deleted here."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Reception)
class ReceptionAdmin(NoDeleteAdmin):
    list_display = (
        "protocol",
        "sample_condition",
        "containers_received",
        "received_by",
        "received_at",
    )
    list_filter = ("sample_condition",)
    search_fields = ("protocol__protocol_number", "protocol__temporary_code")
    list_select_related = ("protocol", "received_by")
    raw_id_fields = ("protocol",)
    readonly_fields = ("protocol", "received_by", "received_at")


@admin.register(ProtocolStatusHistory)
class ProtocolStatusHistoryAdmin(NoDeleteAdmin):
    list_display = ("protocol", "from_status", "to_status", "changed_by", "changed_at")
    list_filter = ("to_status",)
    search_fields = ("protocol__protocol_number", "protocol__temporary_code")
    list_select_related = ("protocol", "changed_by")
    readonly_fields = (
        "protocol",
        "from_status",
        "to_status",
        "changed_by",
        "changed_at",
        "note",
    )

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Counter)
class CounterAdmin(NoDeleteAdmin):
    list_display = ("key", "value")
    search_fields = ("key",)
    # Editing a counter by hand would break gap-free numbering.
    readonly_fields = ("key", "value")
