from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from patolab.core.documents import StoredDocument
from patolab.protocols.models import Protocol


class LabelDocument(StoredDocument):
    """The stored label PDF of one protocol (one page per container), a document
    of the one pipeline (kind `LABEL_DOCUMENT` in `labels/jobs.py`).

    `fingerprint` covers everything printed plus the renderer version: when it no
    longer matches the protocol's current data the file is stale and is never
    served; a new one replaces it (one row per protocol).
    """

    protocol = models.OneToOneField(
        Protocol,
        on_delete=models.CASCADE,
        related_name="label_document",
        verbose_name=_("protocolo"),
    )
    pages = models.PositiveIntegerField(_("páginas"), default=0)

    class Meta:
        verbose_name = _("etiquetas de protocolo")
        verbose_name_plural = _("etiquetas de protocolos")

    def __str__(self) -> str:
        return f"{self.protocol} ({self.pages})"


class LabelBatch(models.Model):
    """One PDF with the labels of many protocols, produced by a `labels.batch` job."""

    id = models.UUIDField(
        primary_key=True,
        default=uuid.uuid4,
        editable=False,
        verbose_name=_("identificador"),
    )
    # The job that produced it: a re-run of the same job reuses this row.
    job_id = models.UUIDField(unique=True, verbose_name=_("trabajo"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("solicitado por"),
    )
    protocol_ids = models.JSONField(_("protocolos"), default=list)
    file = models.CharField(_("archivo"), max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    size = models.PositiveIntegerField(_("tamaño"), default=0)
    pages = models.PositiveIntegerField(_("páginas"), default=0)
    created_at = models.DateTimeField(_("generado"), auto_now_add=True)

    class Meta:
        verbose_name = _("lote de etiquetas")
        verbose_name_plural = _("lotes de etiquetas")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{_('Lote de etiquetas')} {self.created_at:%d/%m/%Y %H:%M}"
