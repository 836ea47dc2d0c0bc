from django.apps import AppConfig


class ProtocolsConfig(AppConfig):
    name = "patolab.protocols"
    label = "protocols"

    def ready(self) -> None:
        from . import panels  # noqa: F401  (registers the home-page panels)
