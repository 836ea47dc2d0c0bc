from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "patolab.audit"
    label = "audit"
    verbose_name = _("Auditoría")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import registry

        registry.register_tracked_models()
        registry.connect_signals()
