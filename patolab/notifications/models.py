from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class EmailKind(models.TextChoices):
    SUBMITTED = "submitted", _("Protocolo enviado")
    RECEIVED = "received", _("Muestra recibida")
    DISCREPANCIES = "discrepancies", _("Discrepancias en la recepción")
    REJECTED = "rejected", _("Muestra rechazada")
    REPORT_READY = "report_ready", _("Informe listo")
    WORK_ORDER = "work_order", _("Orden de trabajo")
    EXPORT_READY = "export_ready", _("Exportación lista")
    DAILY_STATS = "daily_stats", _("Estadísticas diarias")
    ACCOUNT_VERIFICATION = "account_verification", _("Verificación de cuenta")
    PASSWORD_RESET = "password_reset", _("Restablecer contraseña")


class EmailStatus(models.TextChoices):
    QUEUED = "queued", _("En cola")
    SENDING = "sending", _("Enviando")
    SENT = "sent", _("Enviado")
    FAILED = "failed", _("Falló")


class EmailLog(models.Model):
    """Outbox row for every e-mail. Rendered before it is queued; the delivery
    task only sends what is here, at most once per idempotency key."""

    kind = models.CharField(_("tipo"), max_length=30, choices=EmailKind.choices)
    idempotency_key = models.CharField(
        max_length=200, unique=True, verbose_name=_("clave de idempotencia")
    )
    # By name: the outbox sits below the domain apps and imports none of them.
    protocol = models.ForeignKey(
        "protocols.Protocol",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="emails",
        verbose_name=_("protocolo"),
    )
    related = models.CharField(
        max_length=100, blank=True, verbose_name=_("objeto relacionado")
    )
    recipient = models.EmailField(_("destinatario"))
    subject = models.CharField(_("asunto"), max_length=250)
    body_text = models.TextField(verbose_name=_("texto"))
    body_html = models.TextField(blank=True, verbose_name=_("HTML"))
    # [{"path": storage path, "filename": ..., "mimetype": ...}]
    attachments = models.JSONField(default=list, blank=True, verbose_name=_("adjuntos"))
    status = models.CharField(
        _("estado"),
        max_length=10,
        choices=EmailStatus.choices,
        default=EmailStatus.QUEUED,
    )
    attempts = models.PositiveIntegerField(_("intentos"), default=0)
    last_error = models.TextField(_("último error"), blank=True)
    message_id = models.CharField(
        max_length=200, blank=True, verbose_name=_("Message-ID")
    )
    created_at = models.DateTimeField(_("creado"), auto_now_add=True, db_index=True)
    sending_started_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("envío iniciado")
    )
    # When a queued row is due (now for new rows, later while waiting for a
    # retry): the sweeper only re-sends rows overdue by its threshold.
    next_attempt_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("próximo intento")
    )
    sent_at = models.DateTimeField(_("enviado"), null=True, blank=True)
    # Transient failures are retried for EMAIL_RETRY_FOR_SECONDS from here (the
    # last manual resend), or from `created_at` when empty.
    retry_from = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("e-mail")
        verbose_name_plural = _("e-mails")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} → {self.recipient} ({self.status})"
