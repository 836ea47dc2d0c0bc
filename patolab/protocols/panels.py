"""Home-page panels contributed by the protocols app."""

from __future__ import annotations

from typing import Any

from django.db.models import Count
from django.urls import reverse
from django.utils.translation import gettext as _

from patolab.core.dashboard import register_panel

from .models import ProtocolStatus
from .selectors import (
    protocol_list_for,
    protocol_overdue_q,
    protocol_pending_reception,
)


@register_panel
def vet_protocols_panel(user: Any) -> dict[str, Any] | None:
    if not getattr(user, "is_veterinarian", False):
        return None
    counts = dict(
        protocol_list_for(user=user, filters={})
        .order_by()
        .values_list("status")
        .annotate(n=Count("id"))
    )
    return {
        "title": _("Mis protocolos"),
        "template": "protocols/_panel_vet.html",
        "counts": [
            (value, label, counts.get(value, 0))
            for value, label in ProtocolStatus.choices
            if counts.get(value)
            or value in (ProtocolStatus.SUBMITTED, ProtocolStatus.RECEIVED)
        ],
        "links": [
            {"url": reverse("protocols:protocol-list"), "label": _("Ver todos")},
            {
                "url": reverse("protocols:protocol-create-histopathology"),
                "label": _("Nueva histopatología"),
            },
            {
                "url": reverse("protocols:protocol-create-cytology"),
                "label": _("Nueva citología"),
            },
        ],
    }


@register_panel
def staff_reception_panel(user: Any) -> dict[str, Any] | None:
    if not (
        getattr(user, "is_lab_staff", False) or getattr(user, "is_admin_role", False)
    ):
        return None
    pending = protocol_pending_reception().count()
    return {
        "title": _("Recepción"),
        "text": _("%(n)d muestras pendientes de recepción.") % {"n": pending},
        "links": [
            {"url": reverse("protocols:reception"), "label": _("Recibir muestras")},
            {
                "url": reverse("protocols:reception-pending"),
                "label": _("Pendientes"),
            },
            {"url": reverse("protocols:protocol-list"), "label": _("Protocolos")},
        ],
    }


# The statuses a lab works through; drafts are the veterinarians' business.
STAFF_STATUSES = (
    ProtocolStatus.SUBMITTED,
    ProtocolStatus.RECEIVED,
    ProtocolStatus.PROCESSING,
    ProtocolStatus.READY,
    ProtocolStatus.REPORT_SENT,
    ProtocolStatus.REJECTED,
    ProtocolStatus.CANCELLED,
)


@register_panel
def staff_status_panel(user: Any) -> dict[str, Any] | None:
    """Counts per status and overdue protocols, each a link to the filtered
    protocol list (lab staff and admins)."""
    if not (
        getattr(user, "is_lab_staff", False) or getattr(user, "is_admin_role", False)
    ):
        return None
    protocols = protocol_list_for(user=user, filters={}).order_by()
    counts = dict(protocols.values_list("status").annotate(n=Count("id")))
    return {
        "title": _("Protocolos por estado"),
        "template": "protocols/_panel_staff.html",
        "counts": [
            (value, ProtocolStatus(value).label, counts.get(value, 0))
            for value in STAFF_STATUSES
        ],
        "overdue": protocols.filter(protocol_overdue_q()).count(),
        "links": [],
    }
