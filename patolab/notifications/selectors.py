from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet

from patolab.accounts.models import Role
from patolab.accounts.permissions import has_role, require_role

from .models import EmailLog

if TYPE_CHECKING:
    from patolab.protocols.models import Protocol


def email_log_list_for(
    *, user: Any, protocol_id: int | None = None, status: str = "", kind: str = ""
) -> QuerySet[EmailLog]:
    """E-mail log entries, newest first. Admins only (NotAllowed otherwise)."""
    require_role(user)
    qs = EmailLog.objects.select_related("protocol").order_by("-created_at", "-id")
    if protocol_id is not None:
        qs = qs.filter(protocol_id=protocol_id)
    if status:
        qs = qs.filter(status=status)
    if kind:
        qs = qs.filter(kind=kind)
    return qs


def email_log_for_protocol(*, user: Any, protocol: Protocol) -> QuerySet[EmailLog]:
    """The e-mails of one protocol for its page: lab staff and admins only;
    everyone else gets an empty list (the page hides the section)."""
    if not has_role(user, Role.LAB_STAFF, Role.HISTOPATHOLOGIST):
        return EmailLog.objects.none()
    return EmailLog.objects.filter(protocol=protocol).order_by("-created_at", "-id")
