"""The protocol state machine: the only code that writes `Protocol.status`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from patolab.core.errors import InvalidTransition

from ..models import Protocol, ProtocolStatus, ProtocolStatusHistory

S = ProtocolStatus

# from_status -> allowed to_statuses (DESIGN section 3).
TRANSITIONS: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.SUBMITTED, S.CANCELLED}),
    S.SUBMITTED: frozenset({S.RECEIVED, S.REJECTED, S.CANCELLED}),
    S.RECEIVED: frozenset({S.PROCESSING, S.CANCELLED}),
    S.PROCESSING: frozenset({S.READY, S.CANCELLED}),
    S.READY: frozenset({S.REPORT_SENT}),
    S.REPORT_SENT: frozenset(),
    S.REJECTED: frozenset(),
    S.CANCELLED: frozenset(),
}


def protocol_can_transition(*, protocol: Protocol, to_status: str) -> bool:
    return to_status in TRANSITIONS.get(protocol.status, frozenset())


def protocol_allowed_transitions(*, protocol: Protocol) -> list[str]:
    """Targets reachable from the current status, in lifecycle order."""
    allowed = TRANSITIONS.get(protocol.status, frozenset())
    return [value for value in S.values if value in allowed]


@transaction.atomic
def protocol_transition(
    *, protocol: Protocol, to_status: str, user: Any, note: str = ""
) -> Protocol:
    """Move `protocol` to `to_status`, writing one ProtocolStatusHistory row.

    Raises InvalidTransition (409) and changes nothing when the state machine
    refuses the move. Re-reads the row under a lock so that two concurrent
    transitions cannot both start from the same status. Sets `received_at`,
    `submitted_at` or `report_sent_at` when moving into those states (if not
    already set by the caller). Role checks are the caller's job (views, API,
    other services); this function only guards the lifecycle.
    """
    if to_status not in S.values:
        raise InvalidTransition(
            _("Estado desconocido: %(status)s.") % {"status": to_status},
            code="invalid_status",
        )
    # Lock the row and work on fresh data: the caller's instance may be stale.
    locked = Protocol.objects.select_for_update().get(pk=protocol.pk)
    _step(protocol, locked=locked, to_status=to_status, user=user, note=note)
    return protocol


def protocol_advance(
    *,
    protocol: Protocol,
    path: Sequence[str],
    user: Any,
    note_for: Callable[[str], str],
) -> None:
    """Walk `protocol` along `path` (statuses in lifecycle order) from its
    current status to the path's last, in one transaction of its own: one
    locked read, then each step as `protocol_transition` makes it (one
    history row per step, noted `note_for(step)`). At the last status
    already: nothing. From a status off the path, the state machine is asked
    for the direct move to the last one (and refuses it with its message)."""
    with transaction.atomic():
        locked = Protocol.objects.select_for_update().get(pk=protocol.pk)
        target = path[-1]
        if locked.status == target:
            return
        steps = (
            path[path.index(locked.status) + 1 :]
            if locked.status in path
            else (target,)
        )
        for step in steps:
            _step(
                protocol, locked=locked, to_status=step, user=user, note=note_for(step)
            )
            locked.status = step


def _step(
    protocol: Protocol, *, locked: Protocol, to_status: str, user: Any, note: str
) -> None:
    """One move of a locked protocol (`locked` is its row as read under the
    lock), written through the caller's instance `protocol`."""
    from_status = locked.status
    if to_status not in TRANSITIONS.get(from_status, frozenset()):
        raise InvalidTransition(
            _("No se puede pasar el protocolo %(code)s de «%(from)s» a «%(to)s».")
            % {
                "code": locked.code,
                "from": S(from_status).label,
                "to": S(to_status).label,
            }
        )
    now = timezone.now()
    fields = ["status", "updated_at"]
    protocol.status = to_status
    if to_status == S.SUBMITTED and protocol.submitted_at is None:
        protocol.submitted_at = now
        fields.append("submitted_at")
    if to_status == S.RECEIVED and protocol.received_at is None:
        protocol.received_at = now
        fields.append("received_at")
    if to_status == S.REPORT_SENT:
        protocol.report_sent_at = now
        fields.append("report_sent_at")
    protocol.save(update_fields=fields)
    ProtocolStatusHistory.objects.create(
        protocol=protocol,
        from_status=from_status,
        to_status=to_status,
        changed_by=user if getattr(user, "is_authenticated", False) else None,
        note=note,
    )
