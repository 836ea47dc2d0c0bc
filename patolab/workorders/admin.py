from __future__ import annotations

from django.contrib import admin

from .models import (
    PricingItem,
    WorkOrder,
    WorkOrderLine,
    WorkOrderPayment,
    WorkOrderPdf,
    WorkOrderProtocol,
)


@admin.register(PricingItem)
class PricingItemAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "description",
        "analysis_type",
        "unit_price",
        "valid_from",
        "valid_to",
        "active",
    )
    list_editable = ("unit_price", "active")
    list_filter = ("active", "analysis_type")
    search_fields = ("code", "description")


class ReadOnlyInline(admin.TabularInline):
    """Lines, links and PDFs are written only by the services (totals, numbering,
    fingerprints): the admin shows them."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


class LineInline(ReadOnlyInline):
    model = WorkOrderLine
    fields = (
        "code",
        "description",
        "quantity",
        "unit_price",
        "discount_percent",
        "amount",
    )
    readonly_fields = fields


class ProtocolInline(ReadOnlyInline):
    model = WorkOrderProtocol
    fields = ("protocol",)
    readonly_fields = fields


class PaymentInline(ReadOnlyInline):
    model = WorkOrderPayment
    fields = ("paid_on", "amount", "recorded_by", "created_at")
    readonly_fields = fields


class PdfInline(ReadOnlyInline):
    model = WorkOrderPdf
    fields = ("created_at", "fingerprint", "sha256", "size", "file")
    readonly_fields = fields


@admin.register(WorkOrder)
class WorkOrderAdmin(admin.ModelAdmin):
    list_display = (
        "number",
        "veterinarian",
        "billing_name",
        "status",
        "payment_status",
        "tax_condition",
        "total",
        "created_at",
    )
    list_filter = ("status", "payment_status", "tax_condition", "created_at")
    search_fields = ("number", "billing_name", "cuit", "veterinarian__full_name")
    date_hierarchy = "created_at"
    list_select_related = ("veterinarian",)
    inlines = (ProtocolInline, LineInline, PaymentInline, PdfInline)
    readonly_fields = (
        "number",
        "veterinarian",
        "status",
        "subtotal",
        "discount_total",
        "tax_total",
        "total",
        "created_by",
        "created_at",
        "issued_at",
        "billing_name",
        "cuit",
        "tax_condition",
        "advance_payment",
        "payment_status",
    )
    # Notes are safe to edit here; money, lines, numbering and payments only
    # through the services (web page or API): the payment status follows
    # from the recorded payments.
    fields = (*readonly_fields, "notes")

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        # An issued (or sent) work order is a billing record: never deleted.
        if obj is not None and obj.status != "draft":
            return False
        return super().has_delete_permission(request, obj)


@admin.register(WorkOrderPdf)
class WorkOrderPdfAdmin(admin.ModelAdmin):
    list_display = ("work_order", "fingerprint", "sha256", "size", "created_at")
    search_fields = ("work_order__number", "fingerprint", "sha256")
    readonly_fields = (
        "work_order",
        "fingerprint",
        "file",
        "sha256",
        "size",
        "created_at",
    )
