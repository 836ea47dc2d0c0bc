from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "patolab.accounts"
    verbose_name = _("Cuentas")
    label = "accounts"

    def ready(self) -> None:
        from . import signals

        signals.connect()
