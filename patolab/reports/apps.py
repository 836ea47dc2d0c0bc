from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "patolab.reports"
    verbose_name = _("Informes")
    label = "reports"

    def ready(self) -> None:
        from patolab.protocols.selectors import register_timeline_source

        from . import panels  # noqa: F401  (registers the home-page panel)
        from .timeline import report_timeline_events

        register_timeline_source(report_timeline_events)
