"""JSON shapes of the work-order API. Money travels as strings ("12345.67")."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.urls import reverse

from .models import PricingItem, WorkOrder
from .pricing import money, tax_is_discriminated


def pricing_to_dict(item: PricingItem) -> dict[str, Any]:
    return {
        "code": item.code,
        "description": item.description,
        "unit_price": str(item.unit_price),
        "analysis_type": item.analysis_type or None,
        "valid_from": item.valid_from.isoformat() if item.valid_from else None,
        "valid_to": item.valid_to.isoformat() if item.valid_to else None,
    }


def workorder_to_dict(wo: WorkOrder) -> dict[str, Any]:
    net = money(wo.total - wo.tax_total)
    paid = sum((p.amount for p in wo.payments.all()), Decimal("0.00"))
    return {
        "id": wo.pk,
        "number": wo.number,
        "status": wo.status,
        "payment_status": wo.payment_status,
        "veterinarian": {"id": wo.veterinarian_id, "name": wo.veterinarian.full_name},
        "billing_name": wo.billing_name,
        "cuit": wo.cuit,
        "tax_condition": wo.tax_condition,
        "tax_discriminated": tax_is_discriminated(wo.tax_condition),
        "protocols": [
            {
                "id": link.protocol_id,
                "protocol_number": link.protocol.protocol_number,
                "analysis_type": link.protocol.analysis_type,
            }
            for link in wo.protocol_links.all()
        ],
        "lines": [
            {
                "id": line.pk,
                "code": line.code,
                "description": line.description,
                "protocol_id": line.protocol_id,
                "quantity": line.quantity,
                "unit_price": str(line.unit_price),
                "discount_percent": str(line.discount_percent),
                "amount": str(line.amount),
            }
            for line in wo.lines.all()
        ],
        "subtotal": str(wo.subtotal),
        "discount_total": str(wo.discount_total),
        "net": str(net),
        "tax_total": str(wo.tax_total),
        "total": str(wo.total),
        "advance_payment": str(wo.advance_payment),
        "payments": [
            {"amount": str(p.amount), "paid_on": p.paid_on.isoformat()}
            for p in wo.payments.all()
        ],
        "paid_total": str(paid),
        "balance": str(wo.total - wo.advance_payment - paid),
        "notes": wo.notes,
        "created_at": wo.created_at.isoformat() if wo.created_at else None,
        "issued_at": wo.issued_at.isoformat() if wo.issued_at else None,
        "pdf_url": reverse("api:workorder_pdf", kwargs={"workorder_id": wo.pk}),
    }
