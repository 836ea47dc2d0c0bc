"""Reception and rejection of submitted samples by lab staff."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from patolab.accounts.permissions import STAFF_ROLES, require_role
from patolab.core.documents import document_build, document_kind_get
from patolab.core.errors import Conflict, DomainError, ValidationFailed
from patolab.jobs.models import Job
from patolab.jobs.services import job_start

from ..jobs import LABELS_DOCUMENT, LABELS_GENERATE, RECEIVE_BATCH
from ..models import Protocol, ProtocolStatus, Reception, SampleCondition
from .numbering import protocol_number_next
from .status import protocol_transition


def _assert_receivable(protocol: Protocol, *, action: str) -> None:
    if protocol.status == ProtocolStatus.REJECTED:
        raise Conflict(
            _("El protocolo %(code)s fue rechazado; no se puede %(action)s.")
            % {"code": protocol.code, "action": action},
            code="protocol_rejected",
        )
    if protocol.protocol_number or protocol.status in (
        ProtocolStatus.RECEIVED,
        ProtocolStatus.PROCESSING,
        ProtocolStatus.READY,
        ProtocolStatus.REPORT_SENT,
    ):
        raise Conflict(
            _("El protocolo %(code)s ya fue recibido.") % {"code": protocol.code},
            code="already_received",
        )
    if protocol.status != ProtocolStatus.SUBMITTED:
        raise Conflict(
            _("El protocolo %(code)s está «%(status)s»; no se puede %(action)s.")
            % {
                "code": protocol.code,
                "status": ProtocolStatus(protocol.status).label,
                "action": action,
            },
            code="not_submitted",
        )


def _as_count(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@transaction.atomic
def protocol_receive(
    *,
    protocol: Protocol,
    received_by: Any,
    sample_condition: str,
    containers: Any,
    discrepancies: str = "",
    notes: str = "",
    notify: bool = True,
    received_at: datetime | None = None,
    render_labels: bool = False,
) -> Protocol:
    """Register the arrival of a submitted sample.

    Locks the protocol row (two receptions of the same protocol serialise and
    the second gets 409), assigns the definitive number from the per-type,
    per-year counter, writes the Reception row and moves the protocol to
    `received` (history row). E-mails (on commit): reception notice (per the
    vet's preference) and, when the received count differs from the declared
    one, the discrepancies notice. Errors: 409 rejected / already received /
    not submitted; 400 bad condition, count < 1, or a count that differs from
    the declared one without a discrepancies text. Nothing changes on error.
    Callers check the role (lab staff or admin). `notify=False` and
    `received_at` exist for the demo seed. Labels are queued as a
    `labels.generate` job; callers that already run in a worker or a batch
    (the demo seed, batch reception) pass `render_labels=True` to render and
    store them right here instead, so they queue nothing behind users' work.
    """
    locked = Protocol.objects.select_for_update().get(pk=protocol.pk)
    _assert_receivable(locked, action=_("recibir"))

    errors: dict[str, list[str]] = {}
    if sample_condition not in SampleCondition.values:
        errors["sample_condition"] = [
            _("Este campo es obligatorio.")
            if not sample_condition
            else _("Estado de la muestra inválido (optimal, acceptable o suboptimal).")
        ]
    count = _as_count(containers)
    discrepancies = (discrepancies or "").strip()
    notes = (notes or "").strip()
    if containers is None or containers == "":
        errors["containers"] = [_("Este campo es obligatorio.")]
    elif count is None:
        errors["containers"] = [_("Debe ser un número entero.")]
    elif count < 1:
        errors["containers"] = [_("Debe recibirse al menos un recipiente.")]
    elif count > 100:
        errors["containers"] = [_("Como máximo 100 recipientes.")]
    elif count != locked.declared_count and not discrepancies:
        errors["discrepancies"] = [
            _(
                "Se declararon %(declared)d y se recibieron %(received)d: "
                "describa la discrepancia."
            )
            % {"declared": locked.declared_count, "received": count}
        ]
    if errors:
        raise ValidationFailed(
            _("Revise los datos de la recepción."), code="invalid", errors=errors
        )
    assert count is not None

    when = received_at or timezone.now()
    # The number is taken inside this transaction: a later failure rolls the
    # counter back too, so numbers stay gap-free.
    locked.protocol_number = protocol_number_next(
        analysis_type=locked.analysis_type, year=timezone.localdate(when).year
    )
    locked.received_at = when
    locked.save(update_fields=["protocol_number", "received_at", "updated_at"])
    Reception.objects.create(
        protocol=locked,
        sample_condition=sample_condition,
        containers_received=count,
        discrepancies=discrepancies,
        notes=notes,
        received_by=received_by,
        received_at=when,
    )
    protocol_transition(
        protocol=locked,
        to_status=ProtocolStatus.RECEIVED,
        user=received_by,
        note=discrepancies,
    )
    # Labels are pre-generated now, so staff print them without waiting; the
    # job is sent after commit, and joins an active one if any.
    if render_labels:
        document_build(document_kind_get(LABELS_DOCUMENT), locked)
    else:
        job_start(kind=LABELS_GENERATE, target=locked, user=received_by)
    if notify:
        from patolab.notifications import emails

        emails.protocol_received(protocol=locked)
        if count != locked.declared_count:
            emails.protocol_discrepancies(protocol=locked)
    return locked


@transaction.atomic
def protocol_reject(
    *, protocol: Protocol, rejected_by: Any, reason: str, notify: bool = True
) -> Protocol:
    """Reject a submitted sample at reception with a reason.

    Locks the row; 409 if it was already received or rejected; 400 without a
    reason. Stores the reason, moves to `rejected` (history row with the
    reason) and queues the rejection e-mail on commit (always sent). Callers
    check the role (lab staff or admin).
    """
    locked = Protocol.objects.select_for_update().get(pk=protocol.pk)
    if locked.status == ProtocolStatus.REJECTED:
        raise Conflict(
            _("El protocolo %(code)s ya fue rechazado.") % {"code": locked.code},
            code="already_rejected",
        )
    _assert_receivable(locked, action=_("rechazar"))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(
            _("Indique el motivo del rechazo."),
            code="invalid",
            errors={"reason": [_("Este campo es obligatorio.")]},
        )
    if len(reason) > 5000:
        raise ValidationFailed(
            _("El motivo es demasiado largo."),
            code="invalid",
            errors={"reason": [_("Como máximo 5000 caracteres.")]},
        )
    locked.rejection_reason = reason
    locked.save(update_fields=["rejection_reason", "updated_at"])
    protocol_transition(
        protocol=locked,
        to_status=ProtocolStatus.REJECTED,
        user=rejected_by,
        note=reason,
    )
    if notify:
        from patolab.notifications import emails

        emails.protocol_rejected(protocol=locked)
    return locked


# ---------------------------------------------------------------- batch reception
RECEIVE_BATCH_MAX = 200


def _batch_item(raw: Any, index: int, errors: dict[str, list[str]]) -> dict[str, Any]:
    """Shape of one batch item; business rules are checked per item in the job."""
    where = _("Ítem %(n)d") % {"n": index}
    if not isinstance(raw, dict):
        errors.setdefault("items", []).append(f"{where}: {_('debe ser un objeto.')}")
        return {}
    pk = raw.get("protocol_id")
    if isinstance(pk, bool) or not isinstance(pk, int):
        errors.setdefault("items", []).append(
            f"{where}: {_('protocol_id debe ser un entero.')}"
        )
    containers = raw.get("containers")
    if containers is not None and (
        isinstance(containers, bool) or not isinstance(containers, int)
    ):
        errors.setdefault("items", []).append(
            f"{where}: {_('containers debe ser un entero.')}"
        )
    return {
        "protocol_id": pk,
        "sample_condition": str(raw.get("sample_condition") or ""),
        "containers": containers,
        "discrepancies": str(raw.get("discrepancies") or "")[:5000],
        "notes": str(raw.get("notes") or "")[:5000],
    }


def protocol_receive_batch_start(*, items: Any, user: Any) -> Job:
    """Queue one `protocols.receive_batch` job for a courier box (lab staff and
    admins; 403 otherwise). 400 for an empty or oversized list, a malformed
    item, or a protocol listed twice. Each item is then received in the job
    through `protocol_receive`, in the order given (so numbers follow the scan
    order), and one failing item never stops the others. Writes one Job row;
    the request loads no protocol."""
    require_role(user, *STAFF_ROLES)
    errors: dict[str, list[str]] = {}
    cleaned: list[dict[str, Any]] = []
    if not isinstance(items, list) or not items:
        errors["items"] = [_("Escanee al menos una muestra.")]
    elif len(items) > RECEIVE_BATCH_MAX:
        errors["items"] = [
            _("Como máximo %(n)d muestras por lote.") % {"n": RECEIVE_BATCH_MAX}
        ]
    else:
        seen: set[int] = set()
        for index, raw in enumerate(items, start=1):
            item = _batch_item(raw, index, errors)
            pk = item.get("protocol_id")
            if isinstance(pk, int) and not isinstance(pk, bool):
                if pk in seen:
                    errors.setdefault("items", []).append(
                        _("Ítem %(n)d: el protocolo está dos veces en el lote.")
                        % {"n": index}
                    )
                seen.add(pk)
            cleaned.append(item)
    if errors:
        raise ValidationFailed(
            _("Revise la lista de la recepción por lote."),
            code="invalid",
            errors=errors,
        )
    return job_start(
        kind=RECEIVE_BATCH, params={"items": cleaned}, user=user, total=len(cleaned)
    )


def protocol_receive_batch_run(*, job: Job, progress: Any) -> dict[str, Any]:
    """Body of `protocols.receive_batch`: `protocol_receive` per item, in order,
    each in its own transaction, labels rendered in place (no label jobs queued
    behind the box). Idempotent: a protocol this job already received (a re-run
    after a crash) counts as received, with its number; nothing happens twice."""
    user = job.requested_by
    raw_items: list[dict[str, Any]] = list(job.params.get("items", []))
    total = len(raw_items)
    progress(0, total)
    results: list[dict[str, Any]] = []
    for index, item in enumerate(raw_items, start=1):
        pk = item.get("protocol_id")
        result: dict[str, Any] = {
            "id": pk,
            "ok": False,
            "error": None,
            "protocol_number": None,
        }
        protocol = (
            Protocol.objects.filter(pk=int(pk or 0)).select_related("reception").first()
        )
        if protocol is None:
            result["error"] = _("El protocolo no existe.")
        else:
            result["code"] = protocol.temporary_code
            if _received_by_this_job(protocol, job):
                result.update(ok=True, protocol_number=protocol.protocol_number)
            else:
                try:
                    received = protocol_receive(
                        protocol=protocol,
                        received_by=user,
                        sample_condition=item.get("sample_condition", ""),
                        containers=item.get("containers"),
                        discrepancies=item.get("discrepancies", ""),
                        notes=item.get("notes", ""),
                        render_labels=True,
                    )
                except DomainError as exc:
                    result["error"] = _domain_error_text(exc)
                else:
                    result.update(ok=True, protocol_number=received.protocol_number)
        if result["ok"]:
            result["detail"] = _("Recibido con el número %(number)s.") % {
                "number": result["protocol_number"]
            }
        results.append(result)
        progress(index, total)
    succeeded = sum(1 for r in results if r["ok"])
    return {
        "succeeded": succeeded,
        "failed": total - succeeded,
        "items": results,
        "message": _("%(ok)d muestras recibidas, %(bad)d con error.")
        % {"ok": succeeded, "bad": total - succeeded},
    }


def _received_by_this_job(protocol: Protocol, job: Job) -> bool:
    reception = getattr(protocol, "reception", None)
    return bool(
        protocol.protocol_number
        and reception is not None
        and reception.received_by_id == job.requested_by_id
        and reception.received_at >= job.created_at
    )


def _domain_error_text(exc: DomainError) -> str:
    """The message plus the field errors ("describa la discrepancia")."""
    details = [
        message
        for messages in (getattr(exc, "errors", None) or {}).values()
        for message in messages
    ]
    return " ".join([exc.message, *details]) if details else exc.message
