"""Home-page panels of the reports app (registered in ReportsConfig.ready)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from patolab.core.dashboard import register_panel
from patolab.protocols.models import TURNAROUND_DAYS, AnalysisType

from .models import ReportStatus
from .selectors import report_list_for, report_work_queue


@register_panel
def reports_panel(user: Any) -> dict[str, Any] | None:
    if not user.is_authenticated:
        return None
    if user.is_histopathologist or user.is_admin_role:
        queue = report_work_queue()
        now = timezone.now()
        overdue = 0
        for analysis_type, received_at in queue.values_list(
            "analysis_type", "received_at"
        ):
            if received_at and (now - received_at).days > TURNAROUND_DAYS.get(
                AnalysisType(analysis_type), 7
            ):
                overdue += 1
        drafts = report_list_for(user=user, status=ReportStatus.DRAFT).count()
        return {
            "title": _("Informes"),
            "template": "reports/_panel.html",
            "pending": queue.count(),
            "overdue": overdue,
            "drafts": drafts,
            "links": [
                {"url": reverse("reports:queue"), "label": _("Informes pendientes")},
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
