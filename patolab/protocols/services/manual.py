"""Status changes requested by staff (protocol page, API, bulk job)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from patolab.core.errors import InvalidTransition, ValidationFailed

from ..models import Protocol, ProtocolStatus
from .reception import protocol_reject
from .status import protocol_transition


def protocol_status_change(
    *,
    protocol: Protocol,
    to_status: str,
    user: Any,
    note: str = "",
    notify: bool = True,
) -> Protocol:
    """Apply a status change chosen by staff, with the same side effects as the
    dedicated actions: `rejected` goes through `protocol_reject` (the note is the
    reason, the vet is e-mailed). `received` needs the reception data and
    `report_sent` happens when a report is finalized, so both are refused here
    (409). Everything else is a plain `protocol_transition`. Callers check the
    role (lab staff or admin)."""
    if to_status not in ProtocolStatus.values:
        raise ValidationFailed(
            _("Estado desconocido."),
            code="invalid",
            errors={"status": [_("Valor no permitido.")]},
        )
    if to_status == ProtocolStatus.RECEIVED:
        raise InvalidTransition(
            _("La recepción se registra con el formulario de recepción."),
            code="reception_required",
        )
    if to_status == ProtocolStatus.REPORT_SENT:
        raise InvalidTransition(
            _("El protocolo pasa a «Informe enviado» al finalizar su informe."),
            code="report_required",
        )
    if to_status == ProtocolStatus.REJECTED:
        return protocol_reject(
            protocol=protocol, rejected_by=user, reason=note, notify=notify
        )
    return protocol_transition(
        protocol=protocol, to_status=to_status, user=user, note=note
    )
