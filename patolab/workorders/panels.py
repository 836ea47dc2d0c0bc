"""Home-page panels (registered from AppConfig.ready)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from patolab.accounts.permissions import STAFF_ROLES, has_role

from .models import WorkOrderStatus
from .selectors import workorder_list_for


def workorders_panel(user: Any) -> dict[str, Any] | None:
    if getattr(user, "is_veterinarian", False):
        orders = list(workorder_list_for(user=user)[:5])
        return {
            "title": _("Mis órdenes de trabajo"),
            "template": "workorders/_panel.html",
            "orders": orders,
            "links": [{"url": reverse("workorders:list"), "label": _("Ver todas")}],
        }
    if has_role(user, *STAFF_ROLES):
        drafts = workorder_list_for(
            user=user, filters={"status": WorkOrderStatus.DRAFT}
        ).count()
        return {
            "title": _("Órdenes de trabajo"),
            "text": _("%(n)s en borrador.") % {"n": drafts},
            "links": [
                {"url": reverse("workorders:create"), "label": _("Nueva orden")},
                {"url": reverse("workorders:list"), "label": _("Ver todas")},
            ],
        }
    return None
