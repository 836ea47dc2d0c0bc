from django.apps import AppConfig


class ProtocolsConfig(AppConfig):
    name = "patolab.protocols"
    label = "protocols"
