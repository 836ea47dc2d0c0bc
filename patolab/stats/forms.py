from __future__ import annotations

from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class RecomputeForm(forms.Form):
    first = forms.DateField(
        label=_("Desde"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    last = forms.DateField(
        label=_("Hasta"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        yesterday = timezone.localdate() - timedelta(days=1)
        kwargs.setdefault("initial", {"first": yesterday, "last": yesterday})
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
