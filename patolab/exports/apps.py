from django.apps import AppConfig


class ExportsConfig(AppConfig):
    name = "patolab.exports"
    label = "exports"
    verbose_name = "Exportaciones"
