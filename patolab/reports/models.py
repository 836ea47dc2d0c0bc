from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from patolab.core.documents import StoredDocument
from patolab.protocols.models import Protocol


class ReportStatus(models.TextChoices):
    DRAFT = "draft", _("Borrador")
    FINALIZING = "finalizing", _("Finalizando")
    FINALIZED = "finalized", _("Finalizado")
    SENT = "sent", _("Enviado")


class Report(models.Model):
    """A histopathology/cytology report. One per protocol and version; a finalized
    version is immutable and an amendment creates the next version."""

    protocol = models.ForeignKey(
        Protocol,
        on_delete=models.PROTECT,
        related_name="reports",
        verbose_name=_("protocolo"),
    )
    version = models.PositiveIntegerField(_("versión"), default=1)
    status = models.CharField(
        _("estado"),
        max_length=12,
        choices=ReportStatus.choices,
        default=ReportStatus.DRAFT,
    )
    macroscopic = models.TextField(_("descripción macroscópica"), blank=True)
    microscopic = models.TextField(_("descripción microscópica"), blank=True)
    diagnosis = models.TextField(_("diagnóstico"), blank=True)
    comments = models.TextField(_("comentarios"), blank=True)
    histopathologist = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="reports",
        verbose_name=_("histopatólogo/a"),
    )
    verification_id = models.UUIDField(
        default=uuid.uuid4,
        unique=True,
        editable=False,
        verbose_name=_("código de verificación"),
    )
    supersedes = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="superseded_by",
        verbose_name=_("reemplaza a"),
    )
    amendment_reason = models.TextField(_("motivo de la enmienda"), blank=True)
    pdf_file = models.CharField(
        max_length=255, blank=True, verbose_name=_("archivo PDF")
    )
    pdf_sha256 = models.CharField(
        max_length=64, blank=True, verbose_name=_("SHA-256 del PDF")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("creado"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("modificado"))
    finalized_at = models.DateTimeField(_("finalizado"), null=True, blank=True)
    sent_at = models.DateTimeField(_("enviado"), null=True, blank=True)

    class Meta:
        verbose_name = _("informe")
        verbose_name_plural = _("informes")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["protocol", "version"], name="report_one_per_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.protocol} v{self.version}"


class ReportPdf(StoredDocument):
    """Every PDF ever produced for a report version (finalization and each
    regeneration), so an old printed copy still verifies as superseded. A
    document of the one pipeline: the report's current file is served only
    while its fingerprint is the report's current one."""

    report = models.ForeignKey(
        Report, on_delete=models.CASCADE, related_name="pdfs", verbose_name=_("informe")
    )
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    # Rows stored before reports joined the pipeline have none: their file is
    # stale and is re-rendered the next time it is asked for.
    fingerprint = models.CharField(_("huella"), max_length=64, default="")
    reason = models.CharField(
        max_length=20, default="finalize", verbose_name=_("motivo")
    )
    # SHA-256 of the unsigned rendering: same content -> same value, although
    # every signing gives different bytes (regeneration skips unchanged ones).
    content_sha256 = models.CharField(
        max_length=64, blank=True, verbose_name=_("SHA-256 del contenido")
    )
    signer = models.CharField(_("firmante"), max_length=200, blank=True)
    signed_at = models.DateTimeField(_("firmado"), null=True, blank=True)
    timestamped = models.BooleanField(_("con sello de tiempo"), default=False)
    signature_demo = models.BooleanField(_("firma de demostración"), default=False)

    class Meta:
        verbose_name = _("PDF de informe")
        verbose_name_plural = _("PDFs de informes")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["report", "sha256"], name="reportpdf_unique_hash"
            )
        ]

    def __str__(self) -> str:
        return f"{self.report} · {self.sha256[:12]}"


class CaseAssignment(models.Model):
    """Which histopathologist a case (a protocol waiting for its report) is
    assigned to. One row per protocol; reassigning updates it."""

    protocol = models.OneToOneField(
        Protocol,
        on_delete=models.CASCADE,
        related_name="assignment",
        verbose_name=_("protocolo"),
    )
    pathologist = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="case_assignments",
        verbose_name=_("histopatólogo/a"),
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("asignado por"),
    )
    assigned_at = models.DateTimeField(_("asignado"), auto_now=True)

    class Meta:
        verbose_name = _("asignación de caso")
        verbose_name_plural = _("asignaciones de casos")

    def __str__(self) -> str:
        return f"{self.protocol} → {self.pathologist}"
