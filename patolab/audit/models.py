"""The audit trail: one row per recorded change (django-auditlog's entry,
swapped in through AUDITLOG_LOGENTRY_MODEL) with two columns of ours: where
the change came from (`via`) and the protocol it belongs to, so a protocol's
trail is one indexed query."""

from __future__ import annotations

from auditlog.models import AbstractLogEntry
from django.db import models
from django.utils.translation import gettext_lazy as _


class Via(models.TextChoices):
    WEB = "web", _("Web")
    API = "api", _("API")
    ADMIN = "admin", _("Administración")
    JOB = "job", _("Trabajo en segundo plano")
    # Management commands, the shell, data migrations.
    SYSTEM = "system", _("Sistema")


class AuditEntry(AbstractLogEntry):  # type: ignore[misc]  # untyped library base
    via = models.CharField(
        _("origen"), max_length=10, choices=Via.choices, default=Via.SYSTEM
    )
    # Not a foreign key: entries outlive what they describe.
    protocol_id = models.BigIntegerField(_("protocolo"), null=True, blank=True)

    class Meta(AbstractLogEntry.Meta):  # type: ignore[misc]
        verbose_name = _("entrada de auditoría")
        verbose_name_plural = _("auditoría")
        indexes = [
            models.Index(
                fields=["protocol_id", "timestamp"], name="audit_protocol_time"
            ),
        ]
