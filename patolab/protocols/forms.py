"""HTML forms. They check types and shape; the services own the rules and
their errors are copied next to the matching field (`apply_domain_errors`)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from patolab.accounts.models import Veterinarian
from patolab.core.errors import DomainError

from .models import AnalysisType, Protocol, ProtocolStatus, SampleCondition
from .services import protocol_validate_submission

COMMON_FIELDS = [
    "species",
    "breed",
    "sex",
    "age",
    "animal_name",
    "owner_name",
    "sampling_date",
    "presumptive_diagnosis",
    "clinical_history",
    "sample_description",
    "academic_interest",
]
HISTO_FIELDS = [*COMMON_FIELDS, "material_submitted", "containers", "preservation"]
CYTO_FIELDS = [*COMMON_FIELDS, "technique", "sampling_site", "slides"]


def apply_domain_errors(form: forms.Form, exc: DomainError) -> None:
    """Show a service error next to its field (or on top of the form)."""
    if not exc.errors:
        form.add_error(None, exc.message)
        return
    for field, messages in exc.errors.items():
        target = field if field in form.fields else None
        for message in messages:
            form.add_error(target, message)


class SpanishErrorsMixin:
    """More specific field errors than Django's defaults (date format hint,
    integer wording), translated through our catalog like every other string."""

    fields: dict[str, forms.Field]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._spanish_errors()

    def _spanish_errors(self) -> None:
        for field in self.fields.values():
            field.error_messages["required"] = _("Este campo es obligatorio.")
            if isinstance(field, forms.IntegerField):
                field.error_messages["invalid"] = _("Debe ser un número entero.")
            elif isinstance(field, forms.DateField):
                field.error_messages["invalid"] = _("Fecha inválida (dd/mm/aaaa).")
            elif isinstance(field, forms.ChoiceField):
                field.error_messages["invalid_choice"] = _("Elija una opción válida.")


class _ProtocolForm(SpanishErrorsMixin, forms.ModelForm):
    analysis_type: str = ""
    # Required to submit (the service says so too); marked here for the asterisk.
    required_fields: tuple[str, ...] = ("animal_name",)
    veterinarian = forms.ModelChoiceField(
        queryset=Veterinarian.objects.all(),
        label=_("Veterinario/a"),
        required=True,
    )

    class Meta:
        model = Protocol
        fields: list[str] = []
        widgets = {
            "sampling_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "clinical_history": forms.Textarea(attrs={"rows": 4}),
            "presumptive_diagnosis": forms.Textarea(attrs={"rows": 2}),
            "sample_description": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(
        self,
        *args: Any,
        choose_vet: bool = False,
        draft: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.draft = draft
        if not choose_vet:
            del self.fields["veterinarian"]
        else:
            # Admins submit on behalf of a veterinarian: show that choice first.
            self.order_fields(["veterinarian"])
        self.fields["sampling_date"].widget.attrs["max"] = (
            timezone.localdate().isoformat()
        )
        for name in self.required_fields:
            self.fields[name].required = True
        if draft:
            # A draft may be incomplete: nothing but well-formed values.
            for name, field in self.fields.items():
                field.required = name == "veterinarian"

    def clean(self) -> dict[str, Any]:
        """Every problem in one round: the service's rules (a future date, zero
        containers, what a submission requires) run even when some fields
        already failed here, and their errors join the form's."""
        cleaned = super().clean() or {}
        data = {k: v for k, v in cleaned.items() if k != "veterinarian"}
        data["analysis_type"] = self.analysis_type
        try:
            protocol_validate_submission(data, draft=self.draft)
        except DomainError as exc:
            for field, messages in exc.errors.items():
                if field in self.errors:
                    continue  # the form already said what is wrong there
                target = field if field in self.fields else None
                for message in messages:
                    self.add_error(target, message)
        return cleaned

    def _post_clean(self) -> None:
        # Business validation is the service's (one place for the HTML form
        # and the API, called from clean()); skip ModelForm's model validation.
        pass

    def service_data(self) -> dict[str, Any]:
        data = {
            name: value
            for name, value in self.cleaned_data.items()
            if name != "veterinarian"
        }
        data["analysis_type"] = self.analysis_type
        return data


class HistopathologyForm(_ProtocolForm):
    analysis_type = AnalysisType.HISTOPATHOLOGY
    required_fields = ("species", "animal_name", "sampling_date", "material_submitted")

    class Meta(_ProtocolForm.Meta):
        fields = HISTO_FIELDS


class CytologyForm(_ProtocolForm):
    analysis_type = AnalysisType.CYTOLOGY
    required_fields = ("species", "animal_name", "sampling_date", "technique")

    class Meta(_ProtocolForm.Meta):
        fields = CYTO_FIELDS


class ProtocolFilterForm(SpanishErrorsMixin, forms.Form):
    q = forms.CharField(
        label=_("Buscar"),
        required=False,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "placeholder": _("Código, animal, propietario, diagnóstico…"),
            }
        ),
    )
    status = forms.ChoiceField(
        label=_("Estado"),
        required=False,
        choices=[("", _("Todos")), *ProtocolStatus.choices],
    )
    analysis_type = forms.ChoiceField(
        label=_("Tipo"),
        required=False,
        choices=[("", _("Todos")), *AnalysisType.choices],
    )
    received_from = forms.DateField(
        label=_("Recibido desde"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    received_to = forms.DateField(
        label=_("Recibido hasta"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    veterinarian = forms.ModelChoiceField(
        label=_("Veterinario/a"),
        required=False,
        queryset=Veterinarian.objects.order_by("full_name"),
        empty_label=_("Todos"),
    )
    overdue = forms.BooleanField(label=_("Solo atrasados"), required=False)
    sort = forms.ChoiceField(
        label=_("Ordenar por"),
        required=False,
        choices=[
            ("-date", _("Fecha: más recientes primero")),
            ("date", _("Fecha: más antiguos primero")),
            ("-number", _("Número: mayor primero")),
            ("number", _("Número: menor primero")),
        ],
    )

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if user is not None and user.is_veterinarian:
            # A veterinarian only sees their own protocols, never late flags.
            del self.fields["veterinarian"]
            del self.fields["overdue"]

    def clean_overdue(self) -> bool | None:
        # Unticked means "no filter", not "only protocols on time".
        return self.cleaned_data.get("overdue") or None

    def filters(self) -> dict[str, Any]:
        if not self.is_valid():
            return {k: v for k, v in self.cleaned_data.items() if v}
        return dict(self.cleaned_data)


class LookupForm(SpanishErrorsMixin, forms.Form):
    code = forms.CharField(
        label=_("Código temporal o número de protocolo"),
        max_length=300,
        widget=forms.TextInput(
            attrs={
                "autofocus": True,
                "autocomplete": "off",
                "class": "search",
                "placeholder": _("Escanee o escriba el código y presione Enter"),
            }
        ),
    )


class ReceiveForm(SpanishErrorsMixin, forms.Form):
    sample_condition = forms.ChoiceField(
        label=_("Estado de la muestra"),
        choices=SampleCondition.choices,
        widget=forms.RadioSelect,
    )
    # No min_value here: the service owns the rule and its message.
    containers = forms.IntegerField(label=_("Recipientes / portaobjetos recibidos"))
    discrepancies = forms.CharField(
        label=_("Discrepancias"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Obligatorio si la cantidad recibida difiere de la declarada."),
    )
    notes = forms.CharField(
        label=_("Observaciones"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class RejectForm(SpanishErrorsMixin, forms.Form):
    reason = forms.CharField(
        label=_("Motivo del rechazo"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
    )


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=ProtocolStatus.choices)
    note = forms.CharField(required=False, max_length=2000)


def protocol_form_class(protocol: Protocol) -> type[_ProtocolForm]:
    if protocol.analysis_type == AnalysisType.CYTOLOGY:
        return CytologyForm
    return HistopathologyForm
