from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

FORMAT_CHOICES = [
    ("xlsx", _("Excel (XLSX)")),
    ("csv", _("CSV (coma)")),
    ("csv;", _("CSV (punto y coma, Excel en español)")),
]


class ExportForm(forms.Form):
    """The export button on a list: the dataset, a format and the list's
    current filters (every other posted field, validated by the service)."""

    dataset = forms.ChoiceField(
        choices=[("protocols", "protocols"), ("workorders", "workorders")],
        widget=forms.HiddenInput,
    )
    format = forms.ChoiceField(label=_("Formato"), choices=FORMAT_CHOICES)
