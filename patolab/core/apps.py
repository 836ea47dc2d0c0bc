from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "patolab.core"
    label = "core"
