from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "patolab.reports"
    label = "reports"

    def ready(self) -> None:
        from . import panels  # noqa: F401  (registers the home-page panel)
