from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProtocolsConfig(AppConfig):
    name = "patolab.protocols"
    verbose_name = _("Protocolos")
    label = "protocols"

    def ready(self) -> None:
        from . import panels  # noqa: F401  (registers the home-page panels)
