"""Bulk status changes (admin), run as the `protocols.bulk_status` job."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from patolab.accounts.models import Role
from patolab.accounts.permissions import require_role
from patolab.core.errors import DomainError, ValidationFailed
from patolab.jobs.models import Job
from patolab.jobs.services import job_start

from ..jobs import BULK_STATUS
from ..models import Protocol, ProtocolStatus
from .manual import protocol_status_change

BULK_MAX_ITEMS = 5000


def protocol_bulk_status_start(
    *, protocol_ids: Any, status: Any, note: str = "", user: Any
) -> Job:
    """Validate the request and queue a `protocols.bulk_status` job (sent on
    commit). 403 for anyone but an admin; 400 for an empty/invalid id list or
    unknown status. Bounded work whatever the list size: no protocol is loaded
    here. Each start is a new job (no target to merge on)."""
    require_role(user, Role.ADMIN)
    errors: dict[str, list[str]] = {}
    ids: list[int] = []
    if not isinstance(protocol_ids, list) or not protocol_ids:
        errors["protocol_ids"] = [_("Indique al menos un protocolo.")]
    elif len(protocol_ids) > BULK_MAX_ITEMS:
        errors["protocol_ids"] = [
            _("Como máximo %(n)d protocolos por vez.") % {"n": BULK_MAX_ITEMS}
        ]
    else:
        for value in protocol_ids:
            if isinstance(value, bool) or not isinstance(value, int):
                errors["protocol_ids"] = [_("Los identificadores deben ser enteros.")]
                break
            if value not in ids:
                ids.append(value)
    if status not in ProtocolStatus.values:
        errors["status"] = [_("Valor no permitido.")]
    if errors:
        raise ValidationFailed(_("Datos inválidos."), code="invalid", errors=errors)
    return job_start(
        kind=BULK_STATUS,
        params={"protocol_ids": ids, "status": status, "note": note or ""},
        user=user,
        total=len(ids),
    )


def protocol_bulk_status_run(
    *,
    protocol_ids: list[int],
    status: str,
    note: str,
    user: Any,
    progress: Callable[[int, int], None],
) -> dict[str, Any]:
    """Change each protocol on its own: one small transaction per protocol, so
    one failure (a refused transition, a missing id) neither rolls back nor
    blocks the others. Notifications follow `protocol_status_change`.

    Idempotent on re-run: a protocol already in `status` counts as succeeded
    and gets no second history row (a crashed run may be repeated)."""
    items: list[dict[str, Any]] = []
    total = len(protocol_ids)
    progress(0, total)
    target = ProtocolStatus(status).label
    for index, pk in enumerate(protocol_ids, start=1):
        item: dict[str, Any] = {"id": pk, "ok": True, "error": None}
        try:
            with transaction.atomic():
                protocol = Protocol.objects.select_for_update().get(pk=pk)
                item["code"] = protocol.code
                if protocol.status == status:
                    item["detail"] = _("Ya estaba en «%(status)s».") % {
                        "status": target
                    }
                else:
                    protocol_status_change(
                        protocol=protocol, to_status=status, user=user, note=note
                    )
                    item["detail"] = _("Pasó a «%(status)s».") % {"status": target}
        except Protocol.DoesNotExist:
            item.update(ok=False, error=_("El protocolo no existe."))
        except DomainError as exc:
            item.update(ok=False, error=exc.message)
        items.append(item)
        progress(index, total)
    succeeded = sum(1 for item in items if item["ok"])
    return {
        "succeeded": succeeded,
        "failed": len(items) - succeeded,
        "items": items,
        "message": _("%(ok)d protocolos actualizados, %(bad)d con error.")
        % {"ok": succeeded, "bad": len(items) - succeeded},
    }
