from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from patolab.accounts.models import User
from patolab.protocols.models import AnalysisType

from .selectors import report_pathologists

MAX_UPLOAD_BYTES = 25 * 1024 * 1024
# A smear has no gross description: cytology reports describe the cells and
# give a cytological diagnosis.
CYTOLOGY_LABELS = {
    "microscopic": _("Descripción citológica"),
    "diagnosis": _("Diagnóstico citológico"),
}


class ReportForm(forms.Form):
    macroscopic = forms.CharField(
        label=_("Descripción macroscópica"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    microscopic = forms.CharField(
        label=_("Descripción microscópica"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 10}),
    )
    diagnosis = forms.CharField(
        label=_("Diagnóstico"),
        required=False,
        help_text=_("Obligatorio para finalizar."),
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    comments = forms.CharField(
        label=_("Comentarios"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args: Any, analysis_type: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if analysis_type == AnalysisType.CYTOLOGY:
            del self.fields["macroscopic"]
            for name, label in CYTOLOGY_LABELS.items():
                self.fields[name].label = label


class AmendForm(forms.Form):
    reason = forms.CharField(
        label=_("Motivo de la enmienda"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class VerifyUploadForm(forms.Form):
    file = forms.FileField(label=_("PDF del informe"))

    def clean_file(self) -> object:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _("El archivo es demasiado grande (máx. 25 MB).")
            )
        return upload


class AssignForm(forms.Form):
    """Queue row form: assign to the chosen histopathologist (empty: nobody),
    or `take` the case oneself. `next` is the queue URL to return to."""

    pathologist = forms.ModelChoiceField(
        label=_("Asignar a"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("Sin asignar"),
    )
    take = forms.BooleanField(required=False)
    next = forms.CharField(required=False, max_length=2000)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["pathologist"].queryset = report_pathologists()
