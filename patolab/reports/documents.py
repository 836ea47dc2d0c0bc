"""The report PDF: what it prints (pure), its file name and storage path.

A document of the one pipeline (`patolab.core.documents`, kind
`REPORT_DOCUMENT` in `reports/jobs.py`). Unlike labels and work orders, a
report's file is also its legal record: finalization renders and stores it
(and e-mails it), every later file is kept (`ReportPdf` rows) so earlier
prints verify as superseded, and the report row points at its current file.
A GET serves that file only while its fingerprint is the report's current one.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from patolab.core.files import safe_filename
from patolab.protocols.models import AnalysisType

from .models import Report
from .pdf import ReportPdfData


def report_verification_url(*, report: Report) -> str:
    path = reverse("verify", kwargs={"verification_id": report.verification_id})
    return f"{settings.SITE_URL}{path}"


def report_download_name(report: Report) -> str:
    return report_download_name_for(code=report.protocol.code, version=report.version)


def report_download_name_for(*, code: str, version: int) -> str:
    return safe_filename(code, f"v{version}", prefix="informe-")


# Every row `report_document_data` reads besides the report's own (the fast
# serving path's digest; a test checks the list against the reads).
REPORT_PRINTED = (
    "protocol",
    "protocol__veterinarian",
    "histopathologist",
    "supersedes",
)


def report_document_data(report: Report) -> ReportPdfData:
    """Everything the renderer prints, loaded from the report and its protocol.
    The report date is `finalized_at`, fixed once, so a re-render gives the
    same bytes."""
    protocol = report.protocol
    vet = protocol.veterinarian
    if protocol.analysis_type == AnalysisType.CYTOLOGY:
        material = ", ".join(
            part
            for part in (protocol.get_technique_display(), protocol.sampling_site)
            if part
        )
    else:
        material = protocol.material_submitted
    if protocol.sample_description:
        material = (
            f"{material} ({protocol.sample_description})"
            if material
            else (protocol.sample_description)
        )
    report_date = (
        timezone.localdate(report.finalized_at) if report.finalized_at else None
    )
    return ReportPdfData(
        lab_name=settings.LAB_NAME,
        protocol_number=protocol.code,
        analysis_type=str(protocol.get_analysis_type_display()),
        version=report.version,
        report_date=report_date,
        verification_url=report_verification_url(report=report),
        verification_id=str(report.verification_id),
        species=str(protocol.get_species_display()),
        breed=protocol.breed,
        sex=str(protocol.get_sex_display()),
        age=protocol.age,
        animal_name=protocol.animal_name,
        owner_name=protocol.owner_name,
        sampling_date=protocol.sampling_date,
        received_date=timezone.localdate(protocol.received_at)
        if protocol.received_at
        else None,
        material=material,
        clinical_history=protocol.clinical_history,
        presumptive_diagnosis=protocol.presumptive_diagnosis,
        veterinarian_name=vet.full_name,
        veterinarian_license=vet.license_number,
        veterinarian_locality=vet.locality,
        macroscopic=report.macroscopic,
        microscopic=report.microscopic,
        diagnosis=report.diagnosis,
        comments=report.comments,
        histopathologist_name=report.histopathologist.display_name,
        histopathologist_license=report.histopathologist.license_number,
        amendment_reason=report.amendment_reason,
        supersedes_version=report.supersedes.version
        if report.supersedes is not None
        else None,
        lab_address=settings.LAB_ADDRESS,
        lab_phone=settings.LAB_PHONE,
        lab_logo_path=settings.LAB_LOGO,
        is_cytology=protocol.analysis_type == AnalysisType.CYTOLOGY,
    )


def report_storage_path(report: Report, fingerprint: str, sha256: str) -> str:
    # Slug of the protocol number + id (never `HP 26/001` raw), plus the hash
    # so a regenerated PDF never overwrites an earlier one.
    return "reports/" + safe_filename(
        report.protocol.code, report.pk, suffix=f"{sha256[:12]}.pdf"
    )
