from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from patolab.accounts.models import Veterinarian
from patolab.core.documents import StoredDocument


class AnalysisType(models.TextChoices):
    CYTOLOGY = "cytology", _("Citología")
    HISTOPATHOLOGY = "histopathology", _("Histopatología")


ANALYSIS_PREFIX = {AnalysisType.CYTOLOGY: "CT", AnalysisType.HISTOPATHOLOGY: "HP"}
# Days from reception to report sent (DESIGN section 3).
TURNAROUND_DAYS = {AnalysisType.CYTOLOGY: 3, AnalysisType.HISTOPATHOLOGY: 7}


class ProtocolStatus(models.TextChoices):
    DRAFT = "draft", _("Borrador")
    SUBMITTED = "submitted", _("Enviado")
    RECEIVED = "received", _("Recibido")
    PROCESSING = "processing", _("En procesamiento")
    READY = "ready", _("Listo para informe")
    REPORT_SENT = "report_sent", _("Informe enviado")
    REJECTED = "rejected", _("Rechazado")
    CANCELLED = "cancelled", _("Cancelado")


class Species(models.TextChoices):
    CANINE = "Canino", _("Canino")
    FELINE = "Felino", _("Felino")
    BOVINE = "Bovino", _("Bovino")
    EQUINE = "Equino", _("Equino")
    OVINE = "Ovino", _("Ovino")
    CAPRINE = "Caprino", _("Caprino")
    PORCINE = "Porcino", _("Porcino")
    AVIAN = "Aviar", _("Aviar")
    OTHER = "Otro", _("Otro")


class Sex(models.TextChoices):
    MALE = "male", _("Macho")
    FEMALE = "female", _("Hembra")
    UNKNOWN = "unknown", _("Desconocido")


class CytologyTechnique(models.TextChoices):
    PAAF = "PAAF", _("PAAF")
    SWAB = "hisopado", _("Hisopado")
    SCRAPING = "raspado", _("Raspado")
    IMPRINT = "impronta", _("Impronta")
    LAVAGE = "lavado", _("Lavado")
    OTHER = "otro", _("Otro")


class SampleCondition(models.TextChoices):
    OPTIMAL = "optimal", _("Óptima")
    ACCEPTABLE = "acceptable", _("Aceptable")
    SUBOPTIMAL = "suboptimal", _("Subóptima")


class Protocol(models.Model):
    """One sample submission (one analysis)."""

    analysis_type = models.CharField(
        _("tipo de análisis"), max_length=20, choices=AnalysisType.choices
    )
    status = models.CharField(
        _("estado"),
        max_length=20,
        choices=ProtocolStatus.choices,
        default=ProtocolStatus.SUBMITTED,
        db_index=True,
    )
    # Assigned at submission: a draft has none (NULLs never collide on unique).
    temporary_code = models.CharField(
        _("código temporal"), max_length=30, unique=True, null=True, blank=True
    )
    protocol_number = models.CharField(
        _("número de protocolo"), max_length=20, unique=True, null=True, blank=True
    )
    veterinarian = models.ForeignKey(
        Veterinarian,
        on_delete=models.PROTECT,
        related_name="protocols",
        verbose_name=_("veterinario/a"),
    )
    # Animal
    species = models.CharField(_("especie"), max_length=20, choices=Species.choices)
    breed = models.CharField(_("raza"), max_length=80, blank=True)
    sex = models.CharField(
        _("sexo"), max_length=10, choices=Sex.choices, default=Sex.UNKNOWN
    )
    age = models.CharField(_("edad"), max_length=40, blank=True)
    animal_name = models.CharField(
        _("nombre / identificación del animal"), max_length=120
    )
    owner_name = models.CharField(_("propietario/a"), max_length=120, blank=True)
    # Clinical data
    presumptive_diagnosis = models.TextField(_("diagnóstico presuntivo"), blank=True)
    clinical_history = models.TextField(_("historia clínica"), blank=True)
    sample_description = models.TextField(_("descripción de la muestra"), blank=True)
    # Required to submit (services), not to save a draft.
    sampling_date = models.DateField(
        _("fecha de toma de muestra"), null=True, blank=True
    )
    academic_interest = models.BooleanField(_("consiente uso docente"), default=False)
    # Cytology
    technique = models.CharField(
        _("técnica"), max_length=20, choices=CytologyTechnique.choices, blank=True
    )
    sampling_site = models.CharField(_("sitio de muestreo"), max_length=150, blank=True)
    slides = models.PositiveIntegerField(_("portaobjetos enviados"), default=1)
    # Histopathology
    material_submitted = models.CharField(
        _("material remitido (tejido/órgano)"), max_length=200, blank=True
    )
    containers = models.PositiveIntegerField(_("frascos enviados"), default=1)
    preservation = models.CharField(
        _("conservación"), max_length=80, blank=True, default="Formol 10 %"
    )
    # Lifecycle
    submitted_at = models.DateTimeField(
        _("enviado"), null=True, blank=True, db_index=True
    )
    received_at = models.DateTimeField(
        _("recibido"), null=True, blank=True, db_index=True
    )
    report_sent_at = models.DateTimeField(_("informe enviado"), null=True, blank=True)
    rejection_reason = models.TextField(_("motivo de rechazo"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("creado por"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("creado"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("modificado"))

    class Meta:
        verbose_name = _("protocolo")
        verbose_name_plural = _("protocolos")
        ordering = ["-submitted_at", "-id"]
        indexes = [
            models.Index(fields=["veterinarian", "status"]),
            models.Index(fields=["analysis_type", "status"]),
        ]

    def __str__(self) -> str:
        # A draft saved incomplete has neither number yet, and __str__ must
        # return a str (admin, audit trail).
        return str(self.code)

    @property
    def code(self) -> str:
        if self.protocol_number or self.temporary_code:
            return self.protocol_number or self.temporary_code or ""
        return _("Borrador %(pk)s") % {"pk": self.pk or ""}

    @property
    def is_draft(self) -> bool:
        return self.status == ProtocolStatus.DRAFT

    @property
    def cancellable_by_vet(self) -> bool:
        """Before reception the veterinarian may withdraw it (or drop a draft)."""
        return self.status in (ProtocolStatus.DRAFT, ProtocolStatus.SUBMITTED)

    @property
    def declared_count(self) -> int:
        if self.analysis_type == AnalysisType.CYTOLOGY:
            return self.slides
        return self.containers


class ProtocolStatusHistory(models.Model):
    protocol = models.ForeignKey(
        Protocol,
        on_delete=models.CASCADE,
        related_name="history",
        verbose_name=_("protocolo"),
    )
    from_status = models.CharField(
        max_length=20,
        choices=ProtocolStatus.choices,
        blank=True,
        verbose_name=_("estado anterior"),
    )
    to_status = models.CharField(
        max_length=20, choices=ProtocolStatus.choices, verbose_name=_("estado nuevo")
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        verbose_name=_("cambiado por"),
    )
    changed_at = models.DateTimeField(
        auto_now_add=True, verbose_name=_("fecha del cambio")
    )
    note = models.TextField(blank=True, verbose_name=_("nota"))

    class Meta:
        verbose_name = _("cambio de estado")
        verbose_name_plural = _("historial de estados")
        ordering = ["changed_at", "id"]

    def __str__(self) -> str:
        return f"{self.protocol}: {self.get_to_status_display()}"


class Reception(models.Model):
    protocol = models.OneToOneField(
        Protocol,
        on_delete=models.CASCADE,
        related_name="reception",
        verbose_name=_("protocolo"),
    )
    sample_condition = models.CharField(
        _("estado de la muestra"), max_length=20, choices=SampleCondition.choices
    )
    containers_received = models.PositiveIntegerField(_("recipientes recibidos"))
    discrepancies = models.TextField(_("discrepancias"), blank=True)
    notes = models.TextField(_("observaciones"), blank=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recibido por"),
    )
    received_at = models.DateTimeField(_("recibido"), db_index=True)

    class Meta:
        verbose_name = _("recepción")
        verbose_name_plural = _("recepciones")

    def __str__(self) -> str:
        return str(self.protocol)


class Counter(models.Model):
    """Gap-free counters (protocol numbers per type and year, temporary codes per
    type and day, work-order numbers per year), incremented under a row lock."""

    key = models.CharField(max_length=40, unique=True, verbose_name=_("clave"))
    value = models.PositiveIntegerField(default=0, verbose_name=_("valor"))

    class Meta:
        verbose_name = _("contador")
        verbose_name_plural = _("contadores")

    def __str__(self) -> str:
        return f"{self.key} = {self.value}"


class SubmissionSlip(StoredDocument):
    """The stored submission slip of one protocol (what the veterinarian prints:
    temporary code as text, QR and barcode, data, one cut-out tag per
    container), a document of the one pipeline (kind `SLIP` in `jobs.py`).
    One row per protocol, replaced when the printed data changes."""

    protocol = models.OneToOneField(
        Protocol,
        on_delete=models.CASCADE,
        related_name="submission_slip",
        verbose_name=_("protocolo"),
    )

    class Meta:
        verbose_name = _("comprobante de remisión")
        verbose_name_plural = _("comprobantes de remisión")

    def __str__(self) -> str:
        return str(self.protocol)
