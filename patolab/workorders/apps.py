from django.apps import AppConfig


class WorkordersConfig(AppConfig):
    name = "patolab.workorders"
    label = "workorders"

    def ready(self) -> None:
        from patolab.core.dashboard import register_panel

        from .panels import workorders_panel

        register_panel(workorders_panel)
