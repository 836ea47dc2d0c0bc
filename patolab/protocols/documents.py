"""The submission slip as a document of the one pipeline: what it prints (a
pure function of the protocol), where the file goes and its download name.
The kind and its job are declared in `jobs.py`; the renderer is `slip.py`."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from patolab.core.errors import Conflict
from patolab.core.files import safe_filename

from .models import AnalysisType, Protocol, ProtocolStatus, SubmissionSlip
from .slip import SlipData

# The slip is printed between submission and reception; afterwards the labels
# (with the definitive number) take over.
SLIP_STATUSES = (ProtocolStatus.SUBMITTED,)


def slip_assert_printable(protocol: Protocol) -> None:
    """409 `slip_unavailable` unless the protocol was submitted and not yet
    received (a draft has no code; a received sample is already labelled)."""
    if protocol.status not in SLIP_STATUSES or not protocol.temporary_code:
        raise Conflict(
            _(
                "El comprobante de remisión se imprime después de enviar el "
                "protocolo y antes de que el laboratorio lo reciba."
            ),
            code="slip_unavailable",
        )


def slip_document_data(protocol: Protocol) -> SlipData:
    """What the slip prints (the veterinarian is select_related by callers).
    Pure: reads the protocol only. The printed words are Spanish literals
    (see slip.py), so labels come from the choices' values, not the UI language."""
    vet = protocol.veterinarian
    cytology = protocol.analysis_type == AnalysisType.CYTOLOGY
    if cytology:
        material_label = "Técnica y sitio"
        material = " · ".join(
            part for part in (protocol.technique, protocol.sampling_site) if part
        )
        unit, units = "portaobjetos", "portaobjetos"
    else:
        material_label = "Material remitido"
        material = protocol.material_submitted
        unit, units = "frasco", "frascos"
    sex = {"male": "Macho", "female": "Hembra"}.get(protocol.sex, "")
    submitted = protocol.submitted_at
    return SlipData(
        lab_name=settings.LAB_NAME,
        temporary_code=protocol.temporary_code or "",
        analysis="Citología" if cytology else "Histopatología",
        veterinarian=vet.full_name,
        veterinarian_license=vet.license_number,
        animal_name=protocol.animal_name,
        species=protocol.species,
        breed=protocol.breed,
        sex=sex,
        age=protocol.age,
        owner_name=protocol.owner_name,
        sampling_date=protocol.sampling_date,
        submitted_on=timezone.localdate(submitted) if submitted else None,
        material_label=material_label,
        material=material,
        preservation="" if cytology else protocol.preservation,
        count=max(1, protocol.declared_count),
        unit=unit,
        units=units,
        presumptive_diagnosis=protocol.presumptive_diagnosis,
    )


def slip_storage_path(protocol: Protocol, fingerprint: str, sha256: str) -> str:
    name = safe_filename(protocol.temporary_code or "", protocol.pk)
    return f"slips/{fingerprint[:12]}-{name}"


def slip_filename(protocol: Protocol) -> str:
    return safe_filename(
        protocol.temporary_code or "", protocol.pk, prefix="comprobante-"
    )


def slip_stored(protocol: Protocol, fingerprint: str) -> SubmissionSlip | None:
    """The stored slip if it has this fingerprint (uses the select_related
    one-to-one when loaded)."""
    try:
        slip: SubmissionSlip | None = protocol.submission_slip
    except SubmissionSlip.DoesNotExist:
        return None
    if slip is None or slip.fingerprint != fingerprint:
        return None
    return slip
