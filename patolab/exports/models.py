from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from patolab.core.documents import StoredDocument
from patolab.jobs.models import Job


class Dataset(models.TextChoices):
    PROTOCOLS = "protocols", _("Protocolos")
    WORKORDERS = "workorders", _("Órdenes de trabajo")


class ExportFormat(models.TextChoices):
    CSV = "csv", _("CSV")
    XLSX = "xlsx", _("Excel (XLSX)")


CONTENT_TYPES = {
    ExportFormat.CSV: "text/csv; charset=utf-8",
    ExportFormat.XLSX: (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    ),
}


class Export(StoredDocument):
    """A finished export file: a stored document of the one pipeline (file,
    sha256, size, fingerprint of the request and writer version) that only its
    requester and admins may download until it expires. One per job: the job
    row holds the request (dataset, format, filters) and its progress."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    job = models.OneToOneField(Job, on_delete=models.CASCADE, related_name="export")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="exports",
        verbose_name=_("solicitado por"),
    )
    dataset = models.CharField(_("datos"), max_length=20, choices=Dataset.choices)
    format = models.CharField(_("formato"), max_length=5, choices=ExportFormat.choices)
    filters = models.JSONField(_("filtros"), default=dict, blank=True)
    rows = models.PositiveIntegerField(_("filas"))
    expires_at = models.DateTimeField(_("vence"), db_index=True)
    # Set by the cleanup task once the file is deleted.
    expired_at = models.DateTimeField(_("vencido"), null=True, blank=True)

    class Meta:
        verbose_name = _("exportación")
        verbose_name_plural = _("exportaciones")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return (
            f"{self.get_dataset_display()} · {self.get_format_display()} · {self.rows}"
        )

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[ExportFormat(self.format)]
