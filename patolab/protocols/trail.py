"""A protocol's audit trail ("Historial de cambios"): the field-by-field audit
entries of the protocol and of everything recorded against it (reception,
reports, work-order lines), merged with its status history. A selector:
reads only; callers check the role (internal staff only, never veterinarians).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext as _

from patolab.audit.models import AuditEntry, Via

from .models import Protocol, ProtocolStatus, ProtocolStatusHistory

ACTIONS = {
    AuditEntry.Action.CREATE: "create",
    AuditEntry.Action.UPDATE: "update",
    AuditEntry.Action.DELETE: "delete",
    AuditEntry.Action.ACCESS: "access",
}


@dataclass
class TrailEntry:
    at: datetime
    user: str
    via: str | None
    object_type: str
    object_id: str
    object_label: str
    action: str
    # field name -> [old, new], as stored (raw values).
    changes: dict[str, list[Any]]
    # (field label, old, new) for people: choice labels, verbose names.
    display: list[tuple[str, str, str]] = field(default_factory=list)
    note: str = ""

    @property
    def via_label(self) -> str:
        return str(Via(self.via).label) if self.via else "—"

    def as_dict(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "user": self.user or None,
            "via": self.via,
            "object": self.object_label,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "action": self.action,
            "changes": self.changes,
            "note": self.note or None,
        }


def _user_label(entry: AuditEntry) -> str:
    if entry.actor is not None:
        return str(entry.actor.get_username())
    return str(entry.actor_email or "")


def _status_label(value: str | None) -> str:
    if not value:
        return "—"
    try:
        return str(ProtocolStatus(value).label)
    except ValueError:
        return value


def protocol_audit_trail(*, protocol: Protocol) -> list[TrailEntry]:
    """Oldest first. Two queries plus one for content types (cached)."""
    history_type = ContentType.objects.get_for_model(ProtocolStatusHistory)
    entries = list(
        AuditEntry.objects.filter(protocol_id=protocol.pk)
        .select_related("actor", "content_type")
        .order_by("timestamp", "pk")
    )
    via_of_history: dict[str, AuditEntry] = {}
    trail: list[TrailEntry] = []
    for entry in entries:
        if entry.content_type_id == history_type.pk:
            via_of_history[entry.object_pk] = entry
            continue
        changes = entry.changes_dict or {}
        display = [
            (str(label), str(values[0]), str(values[1]))
            for label, values in (entry.changes_display_dict or {}).items()
            if isinstance(values, list | tuple) and len(values) == 2
        ]
        model = entry.content_type.model_class()
        type_label = (
            str(model._meta.verbose_name) if model else entry.content_type.model
        )
        trail.append(
            TrailEntry(
                at=entry.timestamp,
                user=_user_label(entry),
                via=entry.via,
                object_type=f"{entry.content_type.app_label}.{entry.content_type.model}",
                object_id=entry.object_pk,
                object_label=f"{type_label.capitalize()} · {entry.object_repr}",
                action=ACTIONS.get(entry.action, str(entry.action)),
                changes={name: list(values) for name, values in changes.items()},
                display=display,
            )
        )
    # Status changes come from the status history itself (rows written before
    # the audit trail existed included); their audit entry, when there is
    # one, says from where they came.
    for row in protocol.history.select_related("changed_by").order_by(
        "changed_at", "id"
    ):
        audit = via_of_history.get(str(row.pk))
        trail.append(
            TrailEntry(
                at=row.changed_at,
                user=row.changed_by.get_username() if row.changed_by else "",
                via=audit.via if audit else None,
                object_type="protocols.protocol",
                object_id=str(protocol.pk),
                object_label=_("Protocolo · %(code)s") % {"code": protocol.code},
                action="status",
                changes={"status": [row.from_status or None, row.to_status]},
                display=[
                    (
                        _("estado"),
                        _status_label(row.from_status),
                        _status_label(row.to_status),
                    )
                ],
                note=row.note,
            )
        )
    trail.sort(key=lambda item: item.at)
    return trail
