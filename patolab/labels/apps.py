from django.apps import AppConfig


class LabelsConfig(AppConfig):
    name = "patolab.labels"
    label = "labels"
    verbose_name = "Etiquetas"
