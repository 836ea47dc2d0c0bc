"""Form rendering helpers for `partials/form.html` (errors in one round, WCAG).

Django already marks an errored widget `aria-invalid` and points its
`aria-describedby` at `<auto_id>_error` / `<auto_id>_helptext`; the partial gives
those elements their ids. This adds the one thing Django cannot know: which
input gets the focus when the page comes back with errors (the first errored one).
"""

from __future__ import annotations

from typing import Any

from django import template
from django.forms import BoundField
from django.utils.safestring import SafeString

register = template.Library()


def _first_errored(form: Any) -> str | None:
    for bound in form.visible_fields():
        if bound.errors:
            return str(bound.name)
    return None


@register.simple_tag
def field_widget(field: BoundField) -> SafeString:
    """The field's widget, with `autofocus` when it is the form's first error."""
    attrs: dict[str, Any] = {}
    if field.errors and _first_errored(field.form) == field.name:
        attrs["autofocus"] = True
    return SafeString(field.as_widget(attrs=attrs))


@register.filter
def error_count(form: Any) -> int:
    """Number of messages the error summary lists (field and form errors)."""
    if not form.is_bound:
        return 0
    return sum(len(errors) for errors in form.errors.values())


@register.filter
def focus_summary(form: Any) -> bool:
    """The summary takes the focus when no visible field has an error."""
    return _first_errored(form) is None
