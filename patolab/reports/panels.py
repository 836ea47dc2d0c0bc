"""Home-page panels of the reports app (registered in ReportsConfig.ready)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from patolab.core.dashboard import register_panel
from patolab.protocols.selectors import protocol_overdue_q

from .models import ReportStatus
from .selectors import report_list_for, report_work_queue


@register_panel
def reports_panel(user: Any) -> dict[str, Any] | None:
    if not user.is_authenticated:
        return None
    if user.is_histopathologist or user.is_admin_role:
        queue = report_work_queue()
        overdue = queue.filter(protocol_overdue_q()).count()
        mine = report_work_queue(scope="mine", user=user).count()
        drafts = report_list_for(user=user, status=ReportStatus.DRAFT).count()
        return {
            "title": _("Informes"),
            "template": "reports/_panel.html",
            "pending": queue.count(),
            "overdue": overdue,
            "mine": mine if user.is_histopathologist else None,
            "drafts": drafts,
            "links": [
                {"url": reverse("reports:queue"), "label": _("Informes pendientes")},
                {
                    "url": reverse("reports:queue") + "?assigned=mine",
                    "label": _("Mis casos"),
                },
                {"url": reverse("reports:list"), "label": _("Todos los informes")},
            ],
        }
    if user.is_veterinarian:
        count = report_list_for(user=user).count()
        return {
            "title": _("Mis informes"),
            "text": _("%(n)s informes finalizados.") % {"n": count},
            "links": [{"url": reverse("reports:list"), "label": _("Ver informes")}],
        }
    return None
