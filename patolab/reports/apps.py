from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "patolab.reports"
    label = "reports"
