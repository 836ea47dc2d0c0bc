"""`{% protocol_emails protocol %}`: the e-mail log section of a protocol page,
shown to lab roles only (issue 3 part 12: "visible on the protocol page")."""

from __future__ import annotations

from typing import Any

from django import template

from patolab.notifications.selectors import email_log_for_protocol

register = template.Library()


@register.inclusion_tag("notifications/_protocol_emails.html", takes_context=True)
def protocol_emails(context: dict[str, Any], protocol: Any) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    logs = list(email_log_for_protocol(user=user, protocol=protocol)[:50])
    return {"email_logs": logs, "show": bool(logs) or _is_lab(user)}


def _is_lab(user: Any) -> bool:
    from patolab.accounts.models import Role
    from patolab.accounts.permissions import has_role

    return has_role(user, Role.LAB_STAFF, Role.HISTOPATHOLOGIST)
