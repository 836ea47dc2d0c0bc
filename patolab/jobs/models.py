from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class JobState(models.TextChoices):
    QUEUED = "queued", _("En cola")
    RUNNING = "running", _("En curso")
    SUCCEEDED = "succeeded", _("Terminado")
    FAILED = "failed", _("Falló")
    CANCELLED = "cancelled", _("Cancelado")


ACTIVE_STATES = (JobState.QUEUED, JobState.RUNNING)
FINAL_STATES = (JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED)


class Job(models.Model):
    """One user-visible background operation. The row is the truth; the Celery
    message only carries its id."""

    id = models.UUIDField(
        primary_key=True,
        default=uuid.uuid4,
        editable=False,
        verbose_name=_("identificador"),
    )
    kind = models.CharField(_("tipo"), max_length=60, db_index=True)
    # "<app_label>.<model>:<pk>" of the object the job works on, "" for none.
    target = models.CharField(_("objetivo"), max_length=100, blank=True, default="")
    params = models.JSONField(_("parámetros"), default=dict, blank=True)
    queue = models.CharField(_("cola"), max_length=30, default="default")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="jobs",
        verbose_name=_("solicitado por"),
    )
    state = models.CharField(
        _("estado"), max_length=12, choices=JobState.choices, default=JobState.QUEUED
    )
    progress_current = models.PositiveIntegerField(
        default=0, verbose_name=_("progreso actual")
    )
    progress_total = models.PositiveIntegerField(
        default=0, verbose_name=_("progreso total")
    )
    result = models.JSONField(_("resultado"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True, default="")
    attempts = models.PositiveIntegerField(_("intentos"), default=0)
    celery_task_id = models.CharField(
        max_length=64, blank=True, default="", verbose_name=_("id de tarea Celery")
    )
    created_at = models.DateTimeField(_("creado"), auto_now_add=True, db_index=True)
    # When the job was (re)sent to the broker, or when a delayed retry is due.
    queued_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("en cola desde")
    )
    started_at = models.DateTimeField(_("iniciado"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("último latido")
    )
    finished_at = models.DateTimeField(_("finalizado"), null=True, blank=True)

    class Meta:
        verbose_name = _("trabajo")
        verbose_name_plural = _("trabajos")
        ordering = ["-created_at"]
        constraints = [
            # At most one active job per (kind, target): double clicks and
            # concurrent requests join the existing job instead of racing.
            models.UniqueConstraint(
                fields=["kind", "target"],
                condition=Q(state__in=["queued", "running"]) & ~Q(target=""),
                name="job_one_active_per_kind_target",
            )
        ]
        indexes = [models.Index(fields=["state", "queued_at"])]

    def __str__(self) -> str:
        from .registry import kind_title

        return f"{kind_title(self.kind)} ({self.get_state_display()})"

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_STATES

    @property
    def percent(self) -> int:
        if self.state == JobState.SUCCEEDED:
            return 100
        if not self.progress_total:
            return 0
        return min(100, int(100 * self.progress_current / self.progress_total))


class WorkerPresence(models.Model):
    """Heartbeat of a live Celery worker, for brokers without broadcast
    (the embedded SQLAlchemy transport cannot answer a ping)."""

    hostname = models.CharField(
        max_length=200, unique=True, verbose_name=_("nombre del worker")
    )
    last_seen = models.DateTimeField(verbose_name=_("visto por última vez"))

    class Meta:
        verbose_name = _("worker activo")
        verbose_name_plural = _("workers activos")

    def __str__(self) -> str:
        return self.hostname
