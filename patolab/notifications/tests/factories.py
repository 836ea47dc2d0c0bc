"""Protocols and reports built directly with the ORM, so these tests do not
depend on the protocols/reports services (owned elsewhere)."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from django.utils import timezone

from patolab.accounts.models import User
from patolab.protocols.models import AnalysisType, Protocol, ProtocolStatus

_seq = itertools.count(1)


def make_protocol(vet_user: User, **fields: Any) -> Protocol:
    n = next(_seq)
    values: dict[str, Any] = {
        "analysis_type": AnalysisType.HISTOPATHOLOGY,
        "status": ProtocolStatus.SUBMITTED,
        "temporary_code": f"TMP-HP-20261128-{n:03d}",
        "veterinarian": vet_user.veterinarian,
        "species": "Canino",
        "animal_name": "Firulais",
        "owner_name": "Juana Pérez",
        "sampling_date": dt.date(2026, 11, 20),
        "material_submitted": "Nódulo cutáneo",
        "containers": 2,
        "submitted_at": timezone.now(),
    }
    values.update(fields)
    return Protocol.objects.create(**values)


def make_received_protocol(vet_user: User, **fields: Any) -> Protocol:
    n = next(_seq)
    return make_protocol(
        vet_user,
        status=ProtocolStatus.RECEIVED,
        protocol_number=f"HP 26/{n:03d}",
        received_at=timezone.now(),
        **fields,
    )


def make_finalized_report(
    protocol: Protocol, histopathologist: User, *, pdf: bytes = b"%PDF-1.4 demo"
) -> Any:
    """A finalized report whose PDF is stored in the default storage."""
    from patolab.core.files import sha256_hex, store_bytes
    from patolab.reports.models import Report, ReportStatus

    report = Report.objects.create(
        protocol=protocol,
        histopathologist=histopathologist,
        status=ReportStatus.FINALIZED,
        diagnosis="Lipoma.",
        finalized_at=timezone.now(),
    )
    report.pdf_file = store_bytes(f"reports/test-{report.pk}.pdf", pdf)
    report.pdf_sha256 = sha256_hex(pdf)
    report.save(update_fields=["pdf_file", "pdf_sha256"])
    return report
