"""Forms of the work-order pages. They check shape only; the services decide."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from patolab.accounts.models import Veterinarian
from patolab.core.pdf.styles import format_money
from patolab.protocols.models import Protocol

from .models import PaymentStatus, TaxCondition, WorkOrderStatus
from .pricing import pricing_valid_on
from .selectors import protocols_billable_for


class VeterinarianPickForm(forms.Form):
    veterinarian = forms.ModelChoiceField(
        label=_("Veterinario/a"),
        queryset=Veterinarian.objects.order_by("full_name"),
        empty_label=_("Elija un veterinario/a…"),
    )


class ProtocolChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.code} · {obj.get_analysis_type_display()} · {obj.animal_name}"


class WorkOrderForm(forms.Form):
    protocols = ProtocolChoiceField(
        label=_("Protocolos recibidos sin facturar"),
        queryset=Protocol.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )
    auto_protocol_lines = forms.BooleanField(
        label=_("Agregar una línea por protocolo con el precio del tarifario"),
        required=False,
        initial=True,
    )
    tax_condition = forms.ChoiceField(
        label=_("Condición frente al IVA"), choices=TaxCondition.choices
    )
    billing_name = forms.CharField(
        label=_("Razón social"),
        max_length=150,
        required=False,
        help_text=_("Si se deja vacío, se usa el nombre del veterinario/a."),
    )
    cuit = forms.CharField(
        label=_("CUIT/CUIL"),
        max_length=13,
        required=False,
        help_text=_(
            "11 dígitos, p. ej. 20-12345678-6. Obligatorio salvo consumidor final."
        ),
    )
    advance_payment = forms.DecimalField(
        label=_("Pago anticipado"), required=False, decimal_places=2, max_digits=12
    )
    notes = forms.CharField(
        label=_("Observaciones"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, veterinarian: Veterinarian, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["protocols"].queryset = protocols_billable_for(
            veterinarian=veterinarian
        )


class WorkOrderEditForm(forms.Form):
    tax_condition = WorkOrderForm.base_fields["tax_condition"]
    billing_name = WorkOrderForm.base_fields["billing_name"]
    cuit = WorkOrderForm.base_fields["cuit"]
    advance_payment = WorkOrderForm.base_fields["advance_payment"]
    notes = WorkOrderForm.base_fields["notes"]


def catalog_choices() -> list[tuple[str, str]]:
    return [("", "—")] + [
        (
            item.code,
            f"{item.code} · {item.description} ({format_money(item.unit_price)})",
        )
        for item in pricing_valid_on()
    ]


class LineForm(forms.Form):
    code = forms.ChoiceField(label=_("Ítem del tarifario"), choices=(), required=False)
    quantity = forms.IntegerField(label=_("Cantidad"), initial=1, required=False)
    discount_percent = forms.DecimalField(
        label=_("Descuento %"), initial=Decimal("0"), required=False, decimal_places=2
    )
    protocol_id = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["code"].choices = catalog_choices()

    @property
    def is_blank(self) -> bool:
        return not self.is_bound or not (self.cleaned_data or {}).get("code")


LineFormSet = forms.formset_factory(LineForm, extra=3, max_num=50)


class WorkOrderFilterForm(forms.Form):
    q = forms.CharField(label=_("Buscar"), required=False)
    status = forms.ChoiceField(
        label=_("Estado"),
        required=False,
        choices=[("", _("Todos")), *WorkOrderStatus.choices],
    )
    payment_status = forms.ChoiceField(
        label=_("Pago"),
        required=False,
        choices=[("", _("Todos")), *PaymentStatus.choices],
    )
    date_from = forms.DateField(
        label=_("Desde"),
        required=False,
        input_formats=["%d/%m/%Y", "%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    date_to = forms.DateField(
        label=_("Hasta"),
        required=False,
        input_formats=["%d/%m/%Y", "%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


class PaymentForm(forms.Form):
    payment_status = forms.ChoiceField(
        label=_("Estado de pago"), choices=PaymentStatus.choices
    )
