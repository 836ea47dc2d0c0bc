from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from patolab.accounts.models import Veterinarian
from patolab.core.documents import StoredDocument
from patolab.protocols.models import AnalysisType, Protocol


class PricingItem(models.Model):
    """A catalog price. Protocol lines are priced by analysis type."""

    code = models.CharField(_("código"), max_length=20, unique=True)
    description = models.CharField(_("descripción"), max_length=200)
    analysis_type = models.CharField(
        _("tipo de análisis"), max_length=20, choices=AnalysisType.choices, blank=True
    )
    unit_price = models.DecimalField(
        _("precio unitario"),
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0"))],
    )
    valid_from = models.DateField(_("vigente desde"), null=True, blank=True)
    valid_to = models.DateField(_("vigente hasta"), null=True, blank=True)
    active = models.BooleanField(_("activo"), default=True)

    class Meta:
        verbose_name = _("ítem del tarifario")
        verbose_name_plural = _("tarifario")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} · {self.description}"


class TaxCondition(models.TextChoices):
    RESPONSABLE_INSCRIPTO = "responsable_inscripto", _("Responsable inscripto")
    MONOTRIBUTISTA = "monotributista", _("Monotributista")
    EXENTO = "exento", _("Exento")
    CONSUMIDOR_FINAL = "consumidor_final", _("Consumidor final")


class WorkOrderStatus(models.TextChoices):
    DRAFT = "draft", _("Borrador")
    ISSUED = "issued", _("Emitida")
    SENT = "sent", _("Enviada")


class PaymentStatus(models.TextChoices):
    PENDING = "pending", _("Pendiente")
    PARTIAL = "partial", _("Pago parcial")
    PAID = "paid", _("Pagada")


class WorkOrder(models.Model):
    number = models.CharField(_("número"), max_length=20, unique=True)
    veterinarian = models.ForeignKey(
        Veterinarian,
        on_delete=models.PROTECT,
        related_name="work_orders",
        verbose_name=_("veterinario/a"),
    )
    status = models.CharField(
        _("estado"),
        max_length=10,
        choices=WorkOrderStatus.choices,
        default=WorkOrderStatus.DRAFT,
    )
    payment_status = models.CharField(
        _("estado de pago"),
        max_length=10,
        choices=PaymentStatus.choices,
        default=PaymentStatus.PENDING,
    )
    billing_name = models.CharField(_("razón social"), max_length=150)
    cuit = models.CharField(_("CUIT/CUIL"), max_length=13, blank=True)
    tax_condition = models.CharField(
        _("condición frente al IVA"), max_length=25, choices=TaxCondition.choices
    )
    advance_payment = models.DecimalField(
        _("pago anticipado"), max_digits=12, decimal_places=2, default=Decimal("0")
    )
    notes = models.TextField(_("observaciones"), blank=True)
    subtotal = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        default=Decimal("0"),
        verbose_name=_("subtotal"),
    )
    discount_total = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        default=Decimal("0"),
        verbose_name=_("descuentos"),
    )
    tax_total = models.DecimalField(
        max_digits=12, decimal_places=2, default=Decimal("0"), verbose_name=_("IVA")
    )
    total = models.DecimalField(
        max_digits=12, decimal_places=2, default=Decimal("0"), verbose_name=_("total")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("creada por"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("creada"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("modificada"))
    issued_at = models.DateTimeField(null=True, blank=True, verbose_name=_("emitida"))

    class Meta:
        verbose_name = _("orden de trabajo")
        verbose_name_plural = _("órdenes de trabajo")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.number


class WorkOrderProtocol(models.Model):
    """A protocol billed on a work order; a protocol is billed at most once."""

    work_order = models.ForeignKey(
        WorkOrder,
        on_delete=models.CASCADE,
        related_name="protocol_links",
        verbose_name=_("orden de trabajo"),
    )
    protocol = models.OneToOneField(
        Protocol,
        on_delete=models.PROTECT,
        related_name="work_order_link",
        verbose_name=_("protocolo"),
    )

    class Meta:
        verbose_name = _("protocolo facturado")
        verbose_name_plural = _("protocolos facturados")

    def __str__(self) -> str:
        return str(self.protocol)


class WorkOrderLine(models.Model):
    work_order = models.ForeignKey(
        WorkOrder,
        on_delete=models.CASCADE,
        related_name="lines",
        verbose_name=_("orden de trabajo"),
    )
    protocol = models.ForeignKey(
        Protocol,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("protocolo"),
    )
    code = models.CharField(_("código"), max_length=20)
    description = models.CharField(_("descripción"), max_length=200)
    quantity = models.PositiveIntegerField(_("cantidad"), default=1)
    unit_price = models.DecimalField(
        _("precio unitario"), max_digits=12, decimal_places=2
    )
    discount_percent = models.DecimalField(
        _("descuento %"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    amount = models.DecimalField(_("importe"), max_digits=12, decimal_places=2)
    position = models.PositiveIntegerField(default=0, verbose_name=_("posición"))

    class Meta:
        verbose_name = _("línea de orden de trabajo")
        verbose_name_plural = _("líneas de orden de trabajo")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.code} · {self.description}"


class WorkOrderPdf(StoredDocument):
    """A rendered PDF of a work order (a document of the one pipeline), keyed by
    the fingerprint of everything it prints. The current PDF is the row whose
    fingerprint equals the fingerprint of the work order as it is now; any other
    row is stale and is never served."""

    work_order = models.ForeignKey(
        WorkOrder,
        on_delete=models.CASCADE,
        related_name="pdfs",
        verbose_name=_("orden de trabajo"),
    )

    class Meta:
        verbose_name = _("PDF de orden de trabajo")
        verbose_name_plural = _("PDFs de órdenes de trabajo")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["work_order", "fingerprint"], name="workorder_pdf_one_per_print"
            )
        ]

    def __str__(self) -> str:
        return f"{self.work_order} · {self.fingerprint[:12]}"


class WorkOrderPayment(models.Model):
    """A payment received for an issued work order. The work order's payment
    status follows from its payments and advance payment (never set by hand)."""

    work_order = models.ForeignKey(
        WorkOrder, on_delete=models.CASCADE, related_name="payments"
    )
    amount = models.DecimalField(_("importe"), max_digits=12, decimal_places=2)
    paid_on = models.DateField(_("fecha de pago"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("pago")
        verbose_name_plural = _("pagos")
        ordering = ["paid_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="workorder_payment_positive"
            )
        ]

    def __str__(self) -> str:
        return f"{self.work_order} · {self.amount}"
