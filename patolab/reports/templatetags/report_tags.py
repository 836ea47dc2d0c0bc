"""Template helpers of the reports app for pages of lower floors (the protocol
page includes `reports/_protocol_reports.html`)."""

from __future__ import annotations

from typing import Any

from django import template

from patolab.reports.selectors import report_versions_for

register = template.Library()


@register.simple_tag(takes_context=True)
def protocol_report_versions(context: dict[str, Any], protocol: Any) -> list[Any]:
    """The report versions of `protocol` the current user may see."""
    return report_versions_for(user=context["request"].user, protocol=protocol)
