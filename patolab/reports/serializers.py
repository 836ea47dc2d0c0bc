"""The API.md report object."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from .documents import report_verification_url
from .models import Report


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


def report_to_dict(report: Report) -> dict[str, Any]:
    finalized = bool(report.pdf_sha256)
    return {
        "id": report.pk,
        "protocol_id": report.protocol_id,
        "protocol_number": report.protocol.protocol_number,
        "status": report.status,
        "version": report.version,
        "macroscopic": report.macroscopic,
        "microscopic": report.microscopic,
        "diagnosis": report.diagnosis,
        "comments": report.comments,
        "histopathologist": {
            "id": report.histopathologist_id,
            "name": report.histopathologist.display_name,
        },
        "supersedes_id": report.supersedes_id,
        "amendment_reason": report.amendment_reason,
        "pdf_sha256": report.pdf_sha256 or None,
        "pdf_url": reverse("api:report_pdf", kwargs={"report_id": report.pk})
        if finalized
        else None,
        "verification_id": str(report.verification_id),
        "verification_url": report_verification_url(report=report),
        "created_at": _iso(report.created_at),
        "updated_at": _iso(report.updated_at),
        # The report date is fixed when its job starts; it is only "finalized"
        # once the PDF exists.
        "finalized_at": _iso(report.finalized_at) if finalized else None,
        "sent_at": _iso(report.sent_at),
    }
