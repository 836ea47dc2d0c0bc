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


class VeterinarianPickForm(forms.Form):
    veterinarian = forms.ModelChoiceField(
        label=_("Veterinario/a"),
        queryset=Veterinarian.objects.order_by("full_name"),
        empty_label=_("Elija un veterinario/a…"),
    )


class ProtocolSelectForm(forms.Form):
    """Which unbilled protocols go on the new work order. Rendered as a table
    (date, type, catalog price) by the template; an empty choice is left to
    the service, so its message joins the others in one round."""

    protocols = forms.ModelMultipleChoiceField(
        label=_("Protocolos recibidos sin facturar"),
        queryset=Protocol.objects.none(),
        required=False,
    )
    auto_protocol_lines = forms.BooleanField(
        label=_("Agregar una línea por protocolo con el precio del tarifario"),
        required=False,
        initial=True,
    )

    def __init__(self, *args: Any, veterinarian: Veterinarian, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Any of the vet's protocols passes here: one billed or changed
        # meanwhile gets the service's message naming it and its work order.
        self.fields["protocols"].queryset = Protocol.objects.filter(
            veterinarian=veterinarian
        )


class WorkOrderForm(forms.Form):
    """The header of a work order (create and edit)."""

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
        """No item chosen, or marked "Quitar": the row is not a line."""
        data = (self.cleaned_data or {}) if self.is_bound else {}
        return not data.get("code") or bool(data.get("DELETE"))


class _LineFormSet(forms.BaseFormSet):  # type: ignore[type-arg]
    def add_fields(self, form: forms.Form, index: int | None) -> None:
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].label = _("Quitar")


LineFormSet = forms.formset_factory(
    LineForm, formset=_LineFormSet, extra=1, max_num=50, can_delete=True
)


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
    """A payment received: the service checks the amount against the balance."""

    amount = forms.DecimalField(
        label=_("Importe"), max_digits=12, decimal_places=2, required=False
    )
    paid_on = forms.DateField(
        label=_("Fecha de pago"),
        required=False,
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
