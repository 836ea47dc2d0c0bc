"""Reads of reports: visibility per role, the histopathologists' work queue,
verification data and the already-loaded data the PDF renderer needs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from uuid import UUID

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from patolab.accounts.models import Role, User
from patolab.accounts.permissions import scope_to_user, user_placeholder, user_shape
from patolab.core.documents import DocumentProbe, printed_digest, stored_row
from patolab.core.prepared import prepared_row
from patolab.core.search import text_search
from patolab.jobs.models import Job
from patolab.protocols.models import (
    TURNAROUND_DAYS,
    AnalysisType,
    Protocol,
    ProtocolStatus,
)
from patolab.protocols.selectors import protocol_is_overdue

from .documents import REPORT_PRINTED, report_download_name, report_download_name_for
from .models import Report, ReportPdf, ReportStatus

REPORTABLE_PROTOCOL_STATUSES = (
    ProtocolStatus.RECEIVED,
    ProtocolStatus.PROCESSING,
    ProtocolStatus.READY,
)
FINAL_REPORT_STATUSES = (ReportStatus.FINALIZED, ReportStatus.SENT)


def _base() -> QuerySet[Report]:
    return Report.objects.select_related(
        "protocol",
        "protocol__veterinarian",
        "histopathologist",
        "supersedes",
    )


def _newest_final_version() -> Subquery:
    """The newest finalized version of the same protocol above this one: the
    version that supersedes this one (None while this one is current)."""
    return Subquery(
        Report.objects.filter(
            protocol_id=OuterRef("protocol_id"),
            version__gt=OuterRef("version"),
            status__in=FINAL_REPORT_STATUSES,
        )
        .order_by("-version")
        .values("version")[:1]
    )


def _visible_to(user: User) -> QuerySet[Report]:
    """The one visibility rule of reports (list, get and download agree):
    veterinarians see their own protocols' reports once finalized (a draft is
    not a report yet); lab roles see all."""
    qs = scope_to_user(_base(), user, vet_field="protocol__veterinarian")
    if user.is_authenticated and user.is_veterinarian:
        qs = qs.filter(status__in=FINAL_REPORT_STATUSES)
    return qs


def report_list_for(*, user: User, status: str = "", q: str = "") -> QuerySet[Report]:
    """Reports the user may see. Veterinarians: only their own protocols' and
    only once finalized (a draft is not a report yet). Each row carries
    `superseded_by_version` (see `report_is_current`)."""
    qs = _visible_to(user).annotate(superseded_by_version=_newest_final_version())
    if status:
        qs = qs.filter(status=status)
    if q:
        # Accent- and case-insensitive ("nandu" finds "Ñandú"), diagnosis included.
        qs = qs.filter(
            Q(protocol__protocol_number__icontains=q)
            | Q(protocol__temporary_code__icontains=q)
            | text_search(
                (
                    "protocol__animal_name",
                    "protocol__owner_name",
                    "protocol__veterinarian__full_name",
                    "diagnosis",
                ),
                q,
            )
        )
    return qs.order_by("-created_at", "-id")


def report_get_for(*, user: User, pk: object) -> Report:
    """One report the user may see; Http404 otherwise (never 403)."""
    try:
        pk = int(str(pk))
    except ValueError:
        raise Http404 from None
    return get_object_or_404(report_list_for(user=user), pk=pk)


def report_get_for_download(*, user: User, pk: object) -> Report:
    """`report_get_for` (the same visibility) without the per-row supersession
    subquery: for the PDF endpoints and the finalize request. Loads everything
    the PDF prints, because serving checks the stored file's fingerprint."""
    try:
        pk = int(str(pk))
    except ValueError:
        raise Http404 from None
    return get_object_or_404(_visible_to(user), pk=pk)


def report_get_for_document(pk: int) -> Report:
    """Internal (the document pipeline): one report with everything its PDF
    prints, no visibility rule."""
    return _base().get(pk=pk)


def report_pdf_probe(*, user: User, pk: int) -> DocumentProbe | None:
    """The lean read of a report PDF GET (`document_serve_current`): with the
    visibility of `report_get_for_download`, a finalized report's printed-rows
    digest and its current file's row. None when the report is not visible,
    not finalized or has no file: the full path answers (404, 409, 202)."""

    def build(marks: dict[str, int]) -> QuerySet[Any]:
        me = user_placeholder(user, marks["user"])
        return (
            _visible_to(me)
            .filter(pk=marks["pk"], status__in=FINAL_REPORT_STATUSES)
            .exclude(pdf_file="")
            .order_by()
            .values("version", "protocol__protocol_number", "protocol__temporary_code")
            .annotate(
                printed=printed_digest(Report, REPORT_PRINTED),
                stored=stored_row(
                    ReportPdf.objects.filter(
                        report=OuterRef("pk"), sha256=OuterRef("pdf_sha256")
                    ).order_by("-created_at")
                ),
            )
        )

    row = prepared_row(
        ("reports.pdf_probe", *user_shape(user)), build, pk=pk, user=user.pk
    )
    if row is None:
        return None
    code = row["protocol__protocol_number"] or row["protocol__temporary_code"] or ""
    return DocumentProbe(
        digest=row["printed"],
        stored=row["stored"],
        filename=report_download_name_for(code=code, version=row["version"]),
    )


def report_versions_for(*, user: User, protocol: Protocol) -> list[Report]:
    """The versions of a protocol's report the user may see (veterinarians:
    finalized ones only), oldest first, each with `superseded_by_version`."""
    qs = (
        Report.objects.filter(protocol_id=protocol.pk)
        .select_related("histopathologist")
        .order_by("version")
    )
    versions = _with_supersession(list(qs))
    if user.is_authenticated and user.is_veterinarian:
        return [v for v in versions if v.status in FINAL_REPORT_STATUSES]
    return versions


def _with_supersession(versions: list[Report]) -> list[Report]:
    """Set `superseded_by_version` on each version of ONE protocol: the newest
    finalized version above it, or None (the same rule as the annotation)."""
    finals = [v.version for v in versions if v.status in FINAL_REPORT_STATUSES]
    for report in versions:
        newer = [n for n in finals if n > report.version]
        report.superseded_by_version = max(newer) if newer else None  # type: ignore[attr-defined]
    return versions


def report_latest_for_protocol(*, protocol: Protocol) -> Report | None:
    return Report.objects.filter(protocol=protocol).order_by("-version").first()


def report_protocol_for_report(*, pk: object) -> Protocol:
    """A protocol a histopathologist may start a report for (lab roles see
    every protocol; the service checks its state)."""
    return get_object_or_404(Protocol.objects.select_related("veterinarian"), pk=pk)


def report_pdf_history(*, report: Report) -> list[ReportPdf]:
    return list(report.pdfs.order_by("created_at", "id"))


# ---------------------------------------------------------------- work queue
@dataclass
class QueueItem:
    protocol: Protocol
    report_id: int | None
    report_status: str
    days_waiting: int
    target_days: int
    overdue: bool

    @property
    def assignee(self) -> User | None:
        assignment = getattr(self.protocol, "assignment", None)
        return assignment.pathologist if assignment is not None else None


# The queue's assignment filter: "mine", "unassigned" or "all".
QUEUE_SCOPES = ("mine", "unassigned", "all")


def report_work_queue(
    *,
    q: str = "",
    analysis_type: str = "",
    scope: str = "all",
    user: User | None = None,
) -> QuerySet[Protocol]:
    """Protocols waiting for a report (received/processing/ready, no finalized
    report), oldest reception first. `scope` "mine" keeps the cases assigned
    to `user`, "unassigned" those assigned to nobody. Annotated with the
    current report's id and status; `queue_items` adds turnaround flags."""
    finished = Report.objects.filter(
        protocol=OuterRef("pk"),
        status__in=(*FINAL_REPORT_STATUSES, ReportStatus.FINALIZING),
    )
    latest = Report.objects.filter(protocol=OuterRef("pk")).order_by("-version")
    qs = (
        Protocol.objects.filter(status__in=REPORTABLE_PROTOCOL_STATUSES)
        .exclude(Exists(finished))
        .select_related("veterinarian", "assignment__pathologist")
        .annotate(
            report_id=Subquery(latest.values("pk")[:1]),
            report_status=Subquery(latest.values("status")[:1]),
        )
    )
    if scope == "mine" and user is not None:
        qs = qs.filter(assignment__pathologist=user)
    elif scope == "unassigned":
        qs = qs.filter(assignment__isnull=True)
    if analysis_type:
        qs = qs.filter(analysis_type=analysis_type)
    if q:
        qs = qs.filter(
            Q(protocol_number__icontains=q)
            | Q(animal_name__icontains=q)
            | Q(veterinarian__full_name__icontains=q)
        )
    return qs.order_by("received_at", "id")


def queue_items(
    protocols: list[Protocol], *, now: datetime | None = None
) -> list[QueueItem]:
    now = now or timezone.now()
    items = []
    for protocol in protocols:
        received = protocol.received_at or protocol.submitted_at or now
        items.append(
            QueueItem(
                protocol=protocol,
                report_id=getattr(protocol, "report_id", None),
                report_status=getattr(protocol, "report_status", None) or "",
                days_waiting=(now - received).days,
                target_days=TURNAROUND_DAYS.get(
                    AnalysisType(protocol.analysis_type), 7
                ),
                overdue=protocol_is_overdue(protocol=protocol, now=now),
            )
        )
    return items


def report_pathologists() -> QuerySet[User]:
    """Active histopathologists: who a case can be assigned to."""
    return User.objects.filter(role=Role.HISTOPATHOLOGIST, is_active=True).order_by(
        "first_name", "last_name", "username"
    )


# ---------------------------------------------------------------- verification
def report_get_by_verification(*, verification_id: UUID | str) -> Report:
    """Public lookup by verification UUID (only finalized versions exist
    publicly; drafts 404)."""
    return get_object_or_404(
        _base().filter(status__in=FINAL_REPORT_STATUSES),
        verification_id=verification_id,
    )


@dataclass
class Verification:
    report: Report
    protocol_number: str
    report_date: date | None
    version: int
    sha256: str
    is_current: bool
    superseded_by_version: int | None
    pdfs: list[dict[str, Any]] = field(default_factory=list)
    # Result of checking a given hash: "current", "superseded" or "unknown".
    match: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "protocol_number": self.protocol_number,
            "report_date": self.report_date.isoformat() if self.report_date else None,
            "version": self.version,
            "sha256": self.sha256,
            "current": self.is_current,
            "superseded_by_version": self.superseded_by_version,
            "pdfs": [
                {**pdf, "created_at": pdf["created_at"].isoformat()}
                for pdf in self.pdfs
            ],
            "match": self.match,
        }


def report_verification(*, report: Report, sha256: str = "") -> Verification:
    """Whether this version is the current one (not superseded by a finalized
    amendment), its PDFs (current and earlier hashes) and, given a hash,
    whether it matches the current PDF, an earlier one, or none."""
    newer = (
        Report.objects.filter(
            protocol_id=report.protocol_id,
            version__gt=report.version,
            status__in=FINAL_REPORT_STATUSES,
        )
        .order_by("-version")
        .values_list("version", flat=True)
        .first()
    )
    pdfs = [
        {
            "sha256": pdf.sha256,
            "created_at": pdf.created_at,
            "reason": pdf.reason,
            "current": pdf.sha256 == report.pdf_sha256 and newer is None,
        }
        for pdf in report.pdfs.order_by("created_at", "id")
    ]
    match = None
    if sha256:
        sha256 = sha256.strip().lower()
        if sha256 == report.pdf_sha256 and newer is None:
            match = "current"
        elif any(pdf["sha256"] == sha256 for pdf in pdfs):
            match = "superseded"
        else:
            match = "unknown"
    return Verification(
        report=report,
        protocol_number=report.protocol.code,
        report_date=timezone.localdate(report.finalized_at)
        if report.finalized_at
        else None,
        version=report.version,
        sha256=report.pdf_sha256,
        is_current=newer is None,
        superseded_by_version=newer,
        pdfs=pdfs,
        match=match,
    )


def report_job_get(*, report: Report, job_id: object) -> Job:
    """A job working on this report (finalization), for its progress page."""
    from patolab.jobs.selectors import target_key

    return get_object_or_404(Job, pk=job_id, target=target_key(report))


# ---------------------------------------------------------------- finalization
@dataclass(frozen=True)
class FinalizePreview:
    """What finalizing a draft sends, and to whom (the confirmation page)."""

    recipient_name: str
    recipient_email: str
    attachment: str
    replaces_version: int | None


def report_finalize_preview(*, report: Report) -> FinalizePreview:
    vet = report.protocol.veterinarian
    return FinalizePreview(
        recipient_name=vet.full_name,
        recipient_email=vet.delivery_email,
        attachment=report_download_name(report),
        replaces_version=report.supersedes.version if report.supersedes else None,
    )
