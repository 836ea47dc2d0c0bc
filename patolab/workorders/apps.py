from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkordersConfig(AppConfig):
    name = "patolab.workorders"
    verbose_name = _("Órdenes de trabajo")
    label = "workorders"

    def ready(self) -> None:
        from patolab.core.dashboard import register_panel

        from .panels import workorders_panel

        register_panel(workorders_panel)
