"""Checks behind the public verification page and API for signed report PDFs.

Reads only: what the stored current PDF's signature says (`report_signature_facts`)
and what an uploaded file is (`report_upload_check`): its SHA-256 compared with
every PDF issued for every version of the report, and its signature validated
with pyHanko against the configured trust roots.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from patolab.core.files import sha256_hex
from patolab.core.pdf.signing import SignatureCheck, signature_check, signing_identity

from .models import Report, ReportPdf
from .selectors import FINAL_REPORT_STATUSES


@dataclass
class SignatureFacts:
    """The signature of the PDF a report version currently points to."""

    signed: bool
    signer: str
    signed_at: Any
    timestamped: bool
    demo: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "signed": self.signed,
            "signer": self.signer or None,
            "signing_time": self.signed_at.isoformat() if self.signed_at else None,
            "timestamp": self.timestamped,
            "demo": self.demo,
        }


def report_signature_facts(*, report: Report) -> SignatureFacts:
    pdf = report.pdfs.filter(sha256=report.pdf_sha256).first()
    if pdf is None or pdf.signed_at is None:
        return SignatureFacts(False, "", None, False, False)
    return SignatureFacts(
        signed=True,
        signer=pdf.signer,
        signed_at=pdf.signed_at,
        timestamped=pdf.timestamped,
        demo=pdf.signature_demo,
    )


def signing_is_demo() -> bool:
    """Whether this installation signs with the demo certificate."""
    return signing_identity().is_demo


@dataclass
class UploadCheck:
    """An uploaded PDF compared with every issued PDF of the report.

    `match`: `current` (the current PDF of the current version), `superseded`
    (an earlier PDF: an earlier version or a regenerated copy) or `unknown`."""

    sha256: str
    match: str
    matched_version: int | None
    matched_reason: str
    current_version: int
    signature: SignatureCheck

    def as_dict(self) -> dict[str, Any]:
        return {
            "sha256": self.sha256,
            "match": self.match,
            "matched_version": self.matched_version,
            "matched_reason": self.matched_reason or None,
            "current_version": self.current_version,
            "signature": self.signature.as_dict(),
        }


def report_upload_check(*, report: Report, data: bytes) -> UploadCheck:
    """Compare `data` with every PDF issued for any version of `report`'s
    protocol report and validate its signature. No writes."""
    digest = sha256_hex(data)
    current = (
        Report.objects.filter(
            protocol_id=report.protocol_id, status__in=FINAL_REPORT_STATUSES
        )
        .order_by("-version")
        .only("pk", "version", "pdf_sha256")
        .first()
    ) or report
    found = (
        ReportPdf.objects.filter(report__protocol_id=report.protocol_id, sha256=digest)
        .select_related("report")
        .only("reason", "sha256", "report__version", "report__pdf_sha256")
        .first()
    )
    if found is None:
        match = "unknown"
    elif found.report_id == current.pk and digest == current.pdf_sha256:
        match = "current"
    else:
        match = "superseded"
    return UploadCheck(
        sha256=digest,
        match=match,
        matched_version=found.report.version if found else None,
        matched_reason=found.reason if found else "",
        current_version=current.version,
        signature=signature_check(data),
    )
