"""Protocol submission by a veterinarian."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from patolab.accounts.models import Veterinarian
from patolab.core.errors import ValidationFailed

from ..models import (
    AnalysisType,
    CytologyTechnique,
    Protocol,
    ProtocolStatus,
    Sex,
    Species,
)
from .numbering import temporary_code_next
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


def protocol_validate_submission(data: dict[str, Any]) -> dict[str, Any]:
    """Clean submission data; raise ValidationFailed naming every bad field.

    Required: analysis type, species, animal name, sampling date (not in the
    future) and what was sent (histopathology: material and containers >= 1;
    cytology: technique and slides >= 1)."""
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}

    def err(field: str, message: str) -> None:
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
        temporary_code=temporary_code_next(
            analysis_type=clean["analysis_type"], day=timezone.localdate(when)
        ),
        submitted_at=when,
        **clean,
    )
    protocol.save()
    protocol_transition(
        protocol=protocol, to_status=ProtocolStatus.SUBMITTED, user=created_by
    )
    if notify:
        from patolab.notifications import emails

        emails.protocol_submitted(protocol=protocol)
    return protocol
