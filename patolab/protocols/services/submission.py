"""Protocol submission by a veterinarian."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from patolab.accounts.models import Veterinarian
from patolab.core.errors import Conflict, NotAllowed, ValidationFailed

from ..models import (
    AnalysisType,
    CytologyTechnique,
    Protocol,
    ProtocolStatus,
    Sex,
    Species,
)
from .numbering import temporary_code_next
from .slip import protocol_slip_get_or_start
from .status import protocol_transition

REQUIRED = _("Este campo es obligatorio.")

# Fields a submission may set, with their defaults (API.md names).
SUBMISSION_FIELDS: dict[str, Any] = {
    "analysis_type": "",
    "species": "",
    "breed": "",
    "sex": Sex.UNKNOWN,
    "age": "",
    "animal_name": "",
    "owner_name": "",
    "presumptive_diagnosis": "",
    "clinical_history": "",
    "sample_description": "",
    "sampling_date": None,
    "academic_interest": False,
    "technique": "",
    "sampling_site": "",
    "slides": 1,
    "material_submitted": "",
    "containers": 1,
    "preservation": "Formol 10 %",
}


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def protocol_validate_submission(
    data: dict[str, Any], *, draft: bool = False
) -> dict[str, Any]:
    """Clean submission data; raise ValidationFailed naming every bad field at
    once (required fields and business rules together: one round of errors).

    Required: analysis type, species, animal name, sampling date (not in the
    future) and what was sent (histopathology: material and containers >= 1;
    cytology: technique and slides >= 1). With `draft=True` only the analysis
    type is required and empty values are kept: a draft may be incomplete, but
    what it has must still be well-formed (a real date, counts >= 1, …)."""
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}

    def err(field: str, message: str) -> None:
        if draft and message == REQUIRED and field != "analysis_type":
            return
        errors.setdefault(field, []).append(message)

    for name, default in SUBMISSION_FIELDS.items():
        value = data.get(name, default)
        if value is None and name != "sampling_date":
            value = default
        if isinstance(value, str):
            value = value.strip()
        clean[name] = value

    if clean["analysis_type"] not in AnalysisType.values:
        err(
            "analysis_type",
            REQUIRED
            if not clean["analysis_type"]
            else _("Tipo de análisis inválido (cytology o histopathology)."),
        )
    if not clean["species"]:
        err("species", REQUIRED)
    elif clean["species"] not in Species.values:
        err("species", _("Especie inválida. Elija una de la lista."))
    if not clean["animal_name"]:
        err("animal_name", REQUIRED)
    if clean["sex"] == "":
        clean["sex"] = Sex.UNKNOWN  # not filled in: unknown
    if clean["sex"] not in Sex.values:
        err("sex", _("Sexo inválido (male, female o unknown)."))
    if not isinstance(clean["academic_interest"], bool):
        err("academic_interest", _("Debe ser verdadero o falso."))

    sampling = clean["sampling_date"]
    if isinstance(sampling, str) and sampling:
        try:
            sampling = date.fromisoformat(sampling)
        except ValueError:
            err("sampling_date", _("Fecha inválida (AAAA-MM-DD)."))
            sampling = None
    if isinstance(sampling, datetime):
        sampling = sampling.date()
    if not sampling and "sampling_date" not in errors:
        err("sampling_date", REQUIRED)
    elif isinstance(sampling, date):
        if sampling > timezone.localdate():
            err("sampling_date", _("La fecha de toma de muestra no puede ser futura."))
        elif sampling.year < 1990:
            err("sampling_date", _("La fecha de toma de muestra es demasiado antigua."))
    clean["sampling_date"] = sampling

    analysis = clean["analysis_type"]
    for count in ("slides", "containers"):
        if draft and clean[count] in ("", None):
            clean[count] = SUBMISSION_FIELDS[count]
    if analysis == AnalysisType.CYTOLOGY:
        slides = _as_int(clean["slides"])
        if slides is None:
            err("slides", _("Debe ser un número entero."))
        elif slides < 1:
            err("slides", _("Debe enviar al menos un portaobjetos."))
        elif slides > 100:
            err("slides", _("Como máximo 100 portaobjetos por protocolo."))
        clean["slides"] = slides
        clean["containers"] = 1
        if not clean["technique"]:
            err("technique", REQUIRED)
        elif clean["technique"] not in CytologyTechnique.values:
            err("technique", _("Técnica inválida. Elija una de la lista."))
        clean["material_submitted"] = ""
        clean["preservation"] = ""
    elif analysis == AnalysisType.HISTOPATHOLOGY:
        containers = _as_int(clean["containers"])
        if containers is None:
            err("containers", _("Debe ser un número entero."))
        elif containers < 1:
            err("containers", _("Debe enviar al menos un frasco."))
        elif containers > 100:
            err("containers", _("Como máximo 100 frascos por protocolo."))
        clean["containers"] = containers
        clean["slides"] = 1
        if not clean["material_submitted"]:
            err("material_submitted", REQUIRED)
        clean["technique"] = ""
        clean["sampling_site"] = ""
        if not clean["preservation"]:
            clean["preservation"] = "Formol 10 %"

    for name in SUBMISSION_FIELDS:
        field = Protocol._meta.get_field(name)
        limit = getattr(field, "max_length", None)
        value = clean[name]
        if limit and isinstance(value, str) and len(value) > limit:
            err(name, _("Como máximo %(n)d caracteres.") % {"n": limit})
        elif isinstance(value, str) and len(value) > 10_000:
            err(name, _("Texto demasiado largo (máximo 10000 caracteres)."))

    if errors:
        raise ValidationFailed(
            _("Revise los datos del protocolo."), code="invalid", errors=errors
        )
    return clean


def _editable_data(protocol: Protocol) -> dict[str, Any]:
    return {name: getattr(protocol, name) for name in SUBMISSION_FIELDS}


def _check_owner(*, protocol: Protocol, user: Any) -> None:
    """A veterinarian acts only on their own protocols (the views already 404
    others'; this guards every other caller). Admins may act for anyone."""
    if getattr(user, "is_admin_role", False):
        return
    if not (
        getattr(user, "is_veterinarian", False)
        and protocol.veterinarian.user_id == user.pk
    ):
        raise NotAllowed(
            _("Solo el veterinario/a que remite puede modificar este protocolo."),
            code="forbidden_owner",
        )


def _assert_draft(protocol: Protocol) -> None:
    if protocol.status != ProtocolStatus.DRAFT:
        raise Conflict(
            _("El protocolo %(code)s ya fue enviado; no se puede modificar.")
            % {"code": protocol.code},
            code="not_draft",
        )


@transaction.atomic
def protocol_save_draft(
    *,
    veterinarian: Veterinarian,
    created_by: Any,
    protocol: Protocol | None = None,
    **data: Any,
) -> Protocol:
    """Create a draft (no temporary code yet, nothing e-mailed) or update the
    fields of an existing one. Only the analysis type is required; what is
    filled in must be well-formed (400 naming every bad field). 409 once the
    protocol left the draft state. Callers check the role; the owner is checked
    here for updates."""
    unknown = set(data) - set(SUBMISSION_FIELDS)
    if unknown:
        raise TypeError(f"unknown protocol fields: {sorted(unknown)}")
    if protocol is not None:
        _check_owner(protocol=protocol, user=created_by)
        protocol = Protocol.objects.select_for_update().get(pk=protocol.pk)
        _assert_draft(protocol)
        # Fields not given keep their value (a PATCH changes only what it sends).
        data = {
            **_editable_data(protocol),
            **data,
            "analysis_type": protocol.analysis_type,
        }
    clean = protocol_validate_submission(data, draft=True)
    if protocol is None:
        protocol = Protocol(
            veterinarian=veterinarian,
            created_by=created_by
            if getattr(created_by, "is_authenticated", False)
            else None,
            status=ProtocolStatus.DRAFT,
        )
    for name, value in clean.items():
        setattr(protocol, name, value)
    protocol.save()
    return protocol


def _submit_locked(
    protocol: Protocol, *, user: Any, when: datetime, notify: bool
) -> Protocol:
    """Assign the temporary code and move draft -> submitted (history row);
    queue the confirmation e-mail and the submission slip on commit."""
    protocol.temporary_code = temporary_code_next(
        analysis_type=protocol.analysis_type, day=timezone.localdate(when)
    )
    protocol.submitted_at = when
    protocol.save(update_fields=["temporary_code", "submitted_at", "updated_at"])
    protocol_transition(
        protocol=protocol, to_status=ProtocolStatus.SUBMITTED, user=user
    )
    if notify:
        from patolab.notifications import emails

        # The slip is made now (a job after commit), so it is ready when the
        # veterinarian opens it from the page or the e-mail.
        protocol_slip_get_or_start(protocol=protocol, user=user)
        emails.protocol_submitted(protocol=protocol)
    return protocol


@transaction.atomic
def protocol_submit(
    *, protocol: Protocol, user: Any, notify: bool = True, **data: Any
) -> Protocol:
    """Submit a draft, with `data` (field values) applied first when given:
    validate it completely (400 naming every missing or bad field at once,
    nothing changes), assign `TMP-<CT|HP>-YYYYMMDD-NNN`, move it to `submitted`
    and queue the confirmation e-mail. 409 if it is not a draft; 403 for
    another veterinarian's protocol."""
    unknown = set(data) - set(SUBMISSION_FIELDS)
    if unknown:
        raise TypeError(f"unknown protocol fields: {sorted(unknown)}")
    _check_owner(protocol=protocol, user=user)
    locked = Protocol.objects.select_for_update().get(pk=protocol.pk)
    _assert_draft(locked)
    values = {**_editable_data(locked), **data}
    values["analysis_type"] = locked.analysis_type
    clean = protocol_validate_submission(values)
    for name, value in clean.items():
        setattr(locked, name, value)
    locked.save()
    return _submit_locked(locked, user=user, when=timezone.now(), notify=notify)


@transaction.atomic
def protocol_cancel(*, protocol: Protocol, user: Any, reason: str = "") -> Protocol:
    """The veterinarian withdraws a protocol before the lab received it (a
    draft or a submitted one): it moves to `cancelled` (history row with the
    reason) and leaves reception's pending list. 409 once received, rejected
    or already cancelled; 403 for another veterinarian's protocol. Lab staff
    cancel later stages through `protocol_status_change`."""
    _check_owner(protocol=protocol, user=user)
    locked = Protocol.objects.select_for_update().get(pk=protocol.pk)
    if not locked.cancellable_by_vet:
        raise Conflict(
            _(
                "El protocolo %(code)s está «%(status)s»: solo se puede cancelar "
                "antes de que el laboratorio lo reciba."
            )
            % {"code": locked.code, "status": ProtocolStatus(locked.status).label},
            code="not_cancellable",
        )
    note = (reason or "").strip()[:2000] or _("Cancelado por el veterinario/a.")
    return protocol_transition(
        protocol=locked, to_status=ProtocolStatus.CANCELLED, user=user, note=note
    )


@transaction.atomic
def protocol_create(
    *,
    veterinarian: Veterinarian,
    created_by: Any,
    notify: bool = True,
    submitted_at: datetime | None = None,
    **data: Any,
) -> Protocol:
    """Create a submitted protocol for `veterinarian`.

    Validates the data (ValidationFailed 400 naming the fields, nothing
    written), assigns `TMP-<CT|HP>-YYYYMMDD-NNN` from a locked counter, and goes
    draft -> submitted through the state machine (one history row). Queues the submission e-mail on commit (honouring the
    vet's preference) unless `notify=False` (demo data). `submitted_at` lets the
    demo seed back-date a protocol. Callers check the role; this trusts that
    `created_by` may act for `veterinarian`.
    """
    unknown = set(data) - set(SUBMISSION_FIELDS)
    if unknown:
        raise TypeError(f"unknown protocol fields: {sorted(unknown)}")
    clean = protocol_validate_submission(data)
    when = submitted_at or timezone.now()
    protocol = Protocol(
        veterinarian=veterinarian,
        created_by=created_by
        if getattr(created_by, "is_authenticated", False)
        else None,
        # Born as a draft; the state machine moves it to submitted below.
        status=ProtocolStatus.DRAFT,
        **clean,
    )
    protocol.save()
    return _submit_locked(protocol, user=created_by, when=when, notify=notify)
