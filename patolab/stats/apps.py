from django.apps import AppConfig


class StatsConfig(AppConfig):
    name = "patolab.stats"
    label = "stats"
    verbose_name = "Estadísticas"
