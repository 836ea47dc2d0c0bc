"""Writes of reports: drafts, finalization (as a job), amendment, PDF storage
and bulk regeneration. Every function here is idempotent where a job may run
it twice (DESIGN section 4)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import DateTimeField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, Now
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from patolab.accounts.models import Role, User
from patolab.accounts.permissions import (
    require_role,
    scope_to_user,
    user_placeholder,
    user_shape,
)
from patolab.core.documents import document_fingerprint, document_store
from patolab.core.errors import Conflict, DomainError, ValidationFailed
from patolab.core.files import sha256_hex
from patolab.core.pdf.pdfa import DocumentInfo
from patolab.core.pdf.signing import SignedPdf, sign_pdf
from patolab.core.prepared import prepared_instance, prepared_row, prepared_update
from patolab.core.retry import DATABASE_TRANSIENT_ERRORS
from patolab.jobs.models import Job
from patolab.jobs.selectors import job_active_for
from patolab.jobs.services import Progress, job_start
from patolab.protocols.models import Protocol, ProtocolStatus

from .documents import report_document_data, report_download_name
from .jobs import REPORT_DOCUMENT, REPORT_FINALIZE, REPORTS_REGENERATE
from .models import CaseAssignment, Report, ReportPdf, ReportStatus
from .pdf import ReportPdfData, render_report
from .selectors import FINAL_REPORT_STATUSES, REPORTABLE_PROTOCOL_STATUSES

logger = logging.getLogger(__name__)

REGENERATE_ALL_TARGET = "reports.regenerate:all"
TEXT_FIELDS = ("macroscopic", "microscopic", "diagnosis", "comments")
MAX_TEXT = 20_000
MAX_REGENERATE_IDS = 10_000
# Protocol states a finalization walks through to reach report_sent, so the
# history shows every step (DESIGN section 3).
PROTOCOL_PATH = (
    ProtocolStatus.RECEIVED,
    ProtocolStatus.PROCESSING,
    ProtocolStatus.READY,
    ProtocolStatus.REPORT_SENT,
)


def _clean_texts(values: dict[str, str | None]) -> dict[str, str]:
    cleaned: dict[str, str] = {}
    errors: dict[str, list[str]] = {}
    for name, value in values.items():
        if value is None:
            continue
        if not isinstance(value, str):
            errors[name] = [_("Debe ser un texto.")]
            continue
        value = value.replace("\r\n", "\n").strip()
        if len(value) > MAX_TEXT:
            errors[name] = [
                _("El texto es demasiado largo (máximo %(max)s caracteres).")
                % {"max": MAX_TEXT}
            ]
        cleaned[name] = value
    if errors:
        raise ValidationFailed(_("Datos inválidos."), errors=errors)
    return cleaned


@transaction.atomic
def report_create(
    *,
    protocol: Protocol,
    histopathologist: User,
    macroscopic: str = "",
    microscopic: str = "",
    diagnosis: str = "",
    comments: str = "",
) -> Report:
    """Create the draft report (version 1) of a received/processing/ready
    protocol. One report per protocol: a second one is a 409 (amend instead).

    Side effects: one Report row; an unassigned case is assigned to the
    histopathologist who starts it. Caller: histopathologists (and admins).
    """
    require_role(histopathologist, Role.HISTOPATHOLOGIST)
    texts = _clean_texts(
        {
            "macroscopic": macroscopic,
            "microscopic": microscopic,
            "diagnosis": diagnosis,
            "comments": comments,
        }
    )
    # The protocol row lock serializes two histopathologists starting the
    # same report at once; the unique (protocol, version) backs it up.
    locked = Protocol.objects.select_for_update().get(pk=protocol.pk)
    if locked.status not in REPORTABLE_PROTOCOL_STATUSES:
        raise Conflict(
            _(
                "Solo se puede informar un protocolo recibido, en procesamiento o "
                "listo para informe (estado actual: %(status)s)."
            )
            % {"status": locked.get_status_display()},
            code="protocol_not_reportable",
        )
    if Report.objects.filter(protocol=locked).exists():
        raise Conflict(
            _("El protocolo ya tiene un informe; edítelo o enmiéndelo."),
            code="report_exists",
        )
    # Starting the report of an unassigned case takes it.
    if histopathologist.role == Role.HISTOPATHOLOGIST:
        _assign_if_unassigned(protocol=locked, pathologist=histopathologist)
    return Report.objects.create(
        protocol=locked, histopathologist=histopathologist, version=1, **texts
    )


def _assign_if_unassigned(*, protocol: Protocol, pathologist: User) -> None:
    CaseAssignment.objects.get_or_create(
        protocol=protocol,
        defaults={"pathologist": pathologist, "assigned_by": pathologist},
    )


@transaction.atomic
def case_assign(
    *, protocol: Protocol, pathologist: User | None, user: User
) -> CaseAssignment | None:
    """Assign a waiting case to a histopathologist (assign, reassign, take it
    oneself), or unassign it with `pathologist=None`. Histopathologists and
    admins may call it; the assignee must be an active histopathologist and the
    case must still wait for its report (409 otherwise).

    Side effects: one CaseAssignment row created, updated or deleted."""
    require_role(user, Role.HISTOPATHOLOGIST)
    if pathologist is not None and not (
        pathologist.is_active and pathologist.role == Role.HISTOPATHOLOGIST
    ):
        raise ValidationFailed(
            _("Solo se puede asignar a un histopatólogo/a activo/a."),
            code="invalid_assignee",
            errors={"pathologist": [_("Elija un histopatólogo/a.")]},
        )
    # The protocol row lock serializes two people assigning the same case.
    locked = Protocol.objects.select_for_update().get(pk=protocol.pk)
    finished = Report.objects.filter(
        protocol=locked,
        status__in=(*FINAL_REPORT_STATUSES, ReportStatus.FINALIZING),
    ).exists()
    if locked.status not in REPORTABLE_PROTOCOL_STATUSES or finished:
        raise Conflict(
            _("El protocolo %(code)s ya no espera informe: no se puede asignar.")
            % {"code": locked.code},
            code="case_not_waiting",
        )
    if pathologist is None:
        CaseAssignment.objects.filter(protocol=locked).delete()
        return None
    assignment, _created = CaseAssignment.objects.update_or_create(
        protocol=locked, defaults={"pathologist": pathologist, "assigned_by": user}
    )
    return assignment


@transaction.atomic
def report_update_draft(
    *,
    report: Report,
    user: User,
    macroscopic: str | None = None,
    microscopic: str | None = None,
    diagnosis: str | None = None,
    comments: str | None = None,
) -> Report:
    """Edit a draft (None leaves a field unchanged). A report that is
    finalizing or finalized is immutable: 409 and nothing changes."""
    require_role(user, Role.HISTOPATHOLOGIST)
    texts = _clean_texts(
        {
            "macroscopic": macroscopic,
            "microscopic": microscopic,
            "diagnosis": diagnosis,
            "comments": comments,
        }
    )
    locked = Report.objects.select_for_update().get(pk=report.pk)
    if locked.status != ReportStatus.DRAFT:
        raise Conflict(
            _("El informe ya fue finalizado y no se puede modificar."),
            code="report_not_editable",
        )
    for name, value in texts.items():
        setattr(locked, name, value)
    locked.save(update_fields=[*texts, "updated_at"])
    return locked


def report_check_finalizable(*, report: Report) -> None:
    """Raise the reason a draft cannot be finalized yet (no diagnosis: 400; a
    protocol that does not admit a report: 409). Read-only: the confirmation
    page asks it before showing what will be sent."""
    if not report.diagnosis.strip():
        raise ValidationFailed(
            _("Complete el diagnóstico antes de finalizar."),
            code="diagnosis_required",
            errors={"diagnosis": [_("El diagnóstico es obligatorio.")]},
        )
    allowed = (*REPORTABLE_PROTOCOL_STATUSES, ProtocolStatus.REPORT_SENT)
    if report.protocol.status not in allowed:
        raise Conflict(
            _("El protocolo está en un estado que no admite informe."),
            code="protocol_not_reportable",
        )


@transaction.atomic
def report_request_finalize(
    *, user: User, report: Report | None = None, report_id: int | None = None
) -> Job:
    """Queue the finalization job for `report` (or the report `report_id`).
    Repeated or concurrent calls return the same active job (row lock here,
    partial unique constraint in job_start).

    Visibility is checked in the locked SELECT itself (404 for a report the
    user may not see), then the role (403), so the API needs no separate
    read: one SELECT … FOR UPDATE of the columns the checks need, one UPDATE,
    one INSERT. Side effects: report -> `finalizing`, one Job (queue
    pdf_generation) sent after commit. 409 if already finalized; 400 without
    a diagnosis.
    """
    pk = report.pk if report is not None else report_id
    locked = _report_lock_for_finalize(user=user, pk=pk)
    require_role(user, Role.HISTOPATHOLOGIST)
    if locked.status in FINAL_REPORT_STATUSES:
        raise Conflict(_("El informe ya está finalizado."), code="report_finalized")
    if locked.status == ReportStatus.FINALIZING:
        active = job_active_for(kind=REPORT_FINALIZE, target=locked)
        if active is not None:
            return active
        # The previous job failed: a new click starts a new one.
    else:
        report_check_finalizable(report=locked)
        prepared_update(
            ("reports.finalizing",),
            lambda marks: (
                Report.objects.filter(pk=marks["pk"]),
                {"status": ReportStatus.FINALIZING, "updated_at": Now()},
            ),
            pk=locked.pk,
        )
        locked.status = ReportStatus.FINALIZING
    if report is not None:
        report.status = locked.status
    return job_start(kind=REPORT_FINALIZE, target=locked, user=user)


def _report_lock_for_finalize(*, user: User, pk: Any) -> Report:
    """Lock the report `pk` as `user` may see it (404 otherwise) and return
    it with what the finalize checks read: status, diagnosis and the
    protocol's status. Runs on every finalize click, so the SELECT … FOR
    UPDATE is compiled once per user shape (`patolab.core.prepared`)."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    if not user.is_authenticated:
        raise Http404

    def build(marks: dict[str, int]) -> QuerySet[Any]:
        me = user_placeholder(user, marks["user"])
        rows = scope_to_user(
            Report.objects.select_for_update(of=("self",)),
            me,
            vet_field="protocol__veterinarian",
        )
        if me.is_veterinarian:
            rows = rows.filter(status__in=FINAL_REPORT_STATUSES)
        return (
            rows.filter(pk=marks["pk"])
            .order_by()
            .values("status", "diagnosis", "protocol_id", "protocol__status")
        )

    row = prepared_row(
        ("reports.finalize_lock", *user_shape(user)), build, pk=pk, user=user.pk
    )
    if row is None:
        raise Http404
    locked = Report(
        pk=pk,
        status=row["status"],
        diagnosis=row["diagnosis"],
        protocol_id=row["protocol_id"],
    )
    locked.protocol = Protocol(pk=row["protocol_id"], status=row["protocol__status"])
    return locked


@transaction.atomic
def report_amend(*, report: Report, user: User, reason: str) -> Report:
    """Create the next version as a draft copying the content, linked by
    `supersedes`. The old version stays finalized; once the new one is
    finalized, the old one verifies as superseded."""
    require_role(user, Role.HISTOPATHOLOGIST)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(
            _("Indique el motivo de la enmienda."),
            errors={"reason": [_("El motivo es obligatorio.")]},
        )
    locked = Report.objects.select_for_update().get(pk=report.pk)
    if locked.status not in FINAL_REPORT_STATUSES:
        raise Conflict(
            _("Solo se puede enmendar un informe finalizado."),
            code="report_not_finalized",
        )
    if Report.objects.filter(supersedes=locked).exists():
        raise Conflict(
            _("Esta versión ya tiene una enmienda."), code="report_already_amended"
        )
    try:
        with transaction.atomic():
            return Report.objects.create(
                protocol_id=locked.protocol_id,
                version=locked.version + 1,
                histopathologist=user,
                supersedes=locked,
                amendment_reason=reason,
                **{name: getattr(locked, name) for name in TEXT_FIELDS},
            )
    except IntegrityError:
        raise Conflict(
            _("Ya existe una versión más nueva de este informe."),
            code="report_already_amended",
        ) from None


# ---------------------------------------------------------------- PDF storage
def report_pdf_store(
    *,
    report: Report,
    data: bytes,
    reason: str,
    fingerprint: str | None = None,
    content_sha256: str = "",
    signed: SignedPdf | None = None,
) -> ReportPdf:
    """Store PDF bytes and record them (a `ReportPdf` row, through the one
    document pipeline). Same (report, hash) twice is a no-op: the same path is
    rewritten with identical bytes and the row exists. `fingerprint` is that of
    the data the bytes were rendered from (computed from the report when not
    given). The caller points the report at the row."""
    if fingerprint is None:
        fingerprint = REPORT_DOCUMENT.fingerprint(report)
    defaults: dict[str, Any] = {"reason": reason, "content_sha256": content_sha256}
    if signed is not None:
        defaults |= {
            "signer": signed.signer[:200],
            "signed_at": signed.signed_at,
            "timestamped": signed.timestamped,
            "signature_demo": signed.is_demo,
        }
    return document_store(
        REPORT_DOCUMENT,
        report,
        fingerprint=fingerprint,
        content=data,
        defaults=defaults,
    )


@dataclass(frozen=True)
class IssuedPdf:
    """A rendered report before storage: the signed bytes, the hash of the
    unsigned rendering (same content -> same hash, used to skip unchanged
    regenerations) and the signature facts."""

    data: bytes
    content_sha256: str
    signed: SignedPdf
    # Of the printed data (renderer version included): the pipeline's key.
    fingerprint: str


def _signer_line(data: ReportPdfData) -> str:
    name = data.histopathologist_name
    license_number = data.histopathologist_license
    return f"{name}, matrícula {license_number}" if license_number else name


def report_pdf_render_signed(
    *, report: Report, data: ReportPdfData | None = None, unsigned: bytes = b""
) -> IssuedPdf:
    """Render the report PDF (unless given) and make it a signed PDF/A-2b (no
    database writes; the clock and an optional TSA request are its only
    inputs besides the report). The signature names the finalizing
    pathologist (name, matrícula) as reason and contact; the signed-by block
    printed on the page stays as it is."""
    data = data or report_document_data(report)
    unsigned = unsigned or render_report(data)
    signer = _signer_line(data)
    signed = sign_pdf(
        unsigned,
        info=DocumentInfo(
            title=f"Informe {data.protocol_number} v{data.version}",
            author=data.lab_name,
            subject=f"Informe {data.protocol_number}",
            created=report.finalized_at or timezone.now(),
            modified=timezone.now().replace(microsecond=0),
        ),
        reason=f"Informe {data.protocol_number} v{data.version} firmado por {signer}",
        contact=signer,
        location=settings.SIGNING_LOCATION,
    )
    return IssuedPdf(
        data=signed.data,
        content_sha256=sha256_hex(unsigned),
        signed=signed,
        fingerprint=document_fingerprint(
            data, renderer=REPORT_DOCUMENT.renderer_version()
        ),
    )


def report_pdf_issue(*, report: Report, reason: str) -> ReportPdf:
    """Render, sign and store one PDF of `report` (a ReportPdf row per signed
    file; see `report_pdf_store`)."""
    issued = report_pdf_render_signed(report=report)
    return report_pdf_store(
        report=report,
        data=issued.data,
        reason=reason,
        fingerprint=issued.fingerprint,
        content_sha256=issued.content_sha256,
        signed=issued.signed,
    )


def _load(report_id: int) -> Report:
    """The report with its protocol, veterinarian and pathologist, and the id
    of its recorded finalize PDF (`finalize_pdf_id`, None until recorded) in
    the same query (compiled once per process: building its SQL cost more
    than running it)."""

    # Not the superseded version: most reports have none (then reading it
    # costs nothing), and joining it doubled the columns of every load.
    def build(marks: dict[str, int]) -> QuerySet[Report]:
        return (
            Report.objects.select_related(
                "protocol", "protocol__veterinarian", "histopathologist"
            )
            .annotate(
                finalize_pdf_id=Subquery(
                    ReportPdf.objects.filter(report=OuterRef("pk"), reason="finalize")
                    .order_by("pk")
                    .values("pk")[:1]
                )
            )
            .filter(pk=marks["pk"])
        )

    report = prepared_instance(("reports.load",), build, pk=int(report_id))
    if report is None:
        raise Report.DoesNotExist(f"report {report_id}")
    return report


def _protocol_admits_report_sent(*, protocol: Protocol, user: User | None) -> str:
    """Lock the protocol and return its status, once it is known to lead to
    `report_sent`: off the usual path, the state machine moves it directly
    or refuses with its own message. protocol_transition re-reads the row
    under the same lock and saves only the fields it changes, so the
    protocol loaded with the report serves as its instance."""
    from patolab.protocols.services import protocol_transition

    status = (
        Protocol.objects.select_for_update()
        .filter(pk=protocol.pk)
        .values_list("status", flat=True)
        .get()
    )
    if status != ProtocolStatus.REPORT_SENT and status not in PROTOCOL_PATH:
        protocol_transition(
            protocol=protocol, to_status=ProtocolStatus.REPORT_SENT, user=user, note=""
        )
        return ProtocolStatus.REPORT_SENT
    return str(status)


def report_finalize_execute(
    *, report_id: int, user_id: int | None = None
) -> dict[str, Any]:
    """The body of the `report.finalize` job. Running it twice (redelivery,
    retry) stores one PDF and creates one e-mail:

    1. render and sign the PDF, unless a finalize PDF is already recorded
       (no database writes: the report date `finalized_at` is fixed in memory);
    2. in one transaction: write `finalized_at`, record the PDF (unique per
       report and hash), create the report e-mail (idempotent by key, sent by
       the `emails` queue after the commit) and mark the report sent, with
       the protocol locked and checked to admit `report_sent` (a refusal
       rolls it all back). A crash before the commit leaves nothing but an
       unrecorded file; the rerun starts over.
    3. in a second transaction, while the e-mail is already on its way: move
       the protocol to `report_sent` (`protocol_advance`: its status history
       and audit entries are most of a finalization's writes; the vet need
       not wait for them).
       A crash between the two commits leaves a sent report on a protocol
       not yet moved: the job is still running, and its rerun skips steps 1
       and 2 (all recorded) and moves the protocol.

    The e-mail is not sent from here (it would save a queue hop): a PDF
    worker killed between the SMTP server's acceptance and the `sent` commit
    would mail the report twice, which the failure drills catch; the e-mail
    worker keeps that window away from the PDF workers.
    """
    from patolab.notifications import emails
    from patolab.protocols.services import protocol_advance

    report = _load(report_id)
    if report.status == ReportStatus.DRAFT:
        raise Conflict(
            _("El informe volvió a borrador; no se finaliza."), code="report_draft"
        )
    # Who moves the protocol: the one who clicked (`user_id`), usually the
    # report's pathologist, loaded with the report.
    user = (
        report.histopathologist
        if user_id is None or user_id == report.histopathologist_id
        else User.objects.get(pk=user_id)
    )
    recorded = getattr(report, "finalize_pdf_id", None)
    pdf = ReportPdf.objects.get(pk=recorded) if recorded is not None else None
    issued = None
    if pdf is None:
        # The printed date; written together with the PDF row below, so a
        # re-render of the recorded PDF prints the same date.
        report.finalized_at = report.finalized_at or timezone.now()
        issued = report_pdf_render_signed(report=report)
    now = timezone.now()
    with transaction.atomic():
        if issued is not None:
            pdf = report_pdf_store(
                report=report,
                data=issued.data,
                reason="finalize",
                fingerprint=issued.fingerprint,
                content_sha256=issued.content_sha256,
                signed=issued.signed,
            )
        assert pdf is not None
        # One UPDATE: the report's date (the one printed, kept if already
        # written) and its move to sent with the PDF.
        Report.objects.filter(
            pk=report.pk,
            status__in=(ReportStatus.FINALIZING, ReportStatus.FINALIZED),
        ).update(
            status=ReportStatus.SENT,
            pdf_file=pdf.file,
            pdf_sha256=pdf.sha256,
            sent_at=now,
            updated_at=now,
            finalized_at=Coalesce(
                "finalized_at",
                Value(report.finalized_at, output_field=DateTimeField()),
            ),
        )
        # Refused here, the state machine's error rolls the report back too.
        _protocol_admits_report_sent(protocol=report.protocol, user=user)
        emails.report_ready(
            report=report,
            pdf_path=pdf.file,
            filename=report_download_name(report),
            sha256=pdf.sha256,
        )
    protocol_advance(
        protocol=report.protocol,
        path=PROTOCOL_PATH,
        user=user,
        note_for=lambda step: _("Informe v%(version)s finalizado y enviado.")
        % {"version": report.version}
        if step == ProtocolStatus.REPORT_SENT
        else _("Avance automático al finalizar el informe."),
    )
    return {
        "report_id": report.pk,
        "sha256": pdf.sha256,
        "redirect_url": reverse("reports:detail", kwargs={"pk": report.pk}),
        "message": _("Informe finalizado y enviado al veterinario/a."),
    }


# ---------------------------------------------------------------- regeneration
def report_regenerate_start(
    *, user: User, report_ids: list[int] | None = None, all_reports: bool = False
) -> Job:
    """Start the bulk regeneration job (queue `bulk`). Admins only. `all` is
    one job at a time; an id list always starts a new job."""
    require_role(user, Role.ADMIN)
    if all_reports:
        return job_start(
            kind=REPORTS_REGENERATE,
            target=REGENERATE_ALL_TARGET,
            params={"all": True},
            user=user,
        )
    ids: list[int] = []
    for value in report_ids or []:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValidationFailed(
                _("Datos inválidos."),
                errors={"report_ids": [_("Cada id debe ser un entero positivo.")]},
            )
        if value not in ids:
            ids.append(value)
    if not ids:
        raise ValidationFailed(
            _("Indique los informes a regenerar o todos."),
            errors={"report_ids": [_("Indique al menos un informe.")]},
        )
    if len(ids) > MAX_REGENERATE_IDS:
        raise ValidationFailed(
            _("Demasiados informes en una sola solicitud."),
            errors={"report_ids": [_("Máximo %(n)s.") % {"n": MAX_REGENERATE_IDS}]},
        )
    return job_start(
        kind=REPORTS_REGENERATE, params={"report_ids": ids}, user=user, total=len(ids)
    )


def report_regenerate_one(*, report_id: int, only_if_stale: bool = False) -> str:
    """Re-render one finalized report with the current template. A changed PDF
    gets a new ReportPdf row (reason `regenerate`) and becomes the report's
    current file/hash; earlier rows stay so old prints verify as superseded.
    Returns "regenerated" or "unchanged".

    The admin's regeneration always renders and compares the unsigned content
    (a template change may not have bumped the renderer version);
    `only_if_stale` (the `report.pdf` job a GET starts) renders only when the
    report's current file does not carry its current fingerprint."""
    try:
        report = _load(report_id)
    except Report.DoesNotExist:
        raise ValidationFailed(_("El informe no existe."), code="not_found") from None
    if report.status not in FINAL_REPORT_STATUSES:
        raise Conflict(_("El informe no está finalizado."), code="report_not_finalized")
    # Signed bytes differ at every signing (time, signature): "unchanged"
    # compares the unsigned rendering with the one the current PDF was made from.
    data = report_document_data(report)
    fingerprint = document_fingerprint(
        data, renderer=REPORT_DOCUMENT.renderer_version()
    )
    if only_if_stale and REPORT_DOCUMENT.stored(report, fingerprint) is not None:
        return "unchanged"
    unsigned = render_report(data)
    current = report.pdfs.filter(sha256=report.pdf_sha256).first()
    if current is not None and current.content_sha256 == sha256_hex(unsigned):
        if current.fingerprint != fingerprint:
            # Same content under a new fingerprint (a renderer version bump that
            # changed nothing printed): the current file is current again.
            ReportPdf.objects.filter(pk=current.pk).update(fingerprint=fingerprint)
        return "unchanged"
    issued = report_pdf_render_signed(report=report, data=data, unsigned=unsigned)
    with transaction.atomic():
        locked = Report.objects.select_for_update().get(pk=report.pk)
        if locked.status not in FINAL_REPORT_STATUSES:
            raise Conflict(
                _("El informe no está finalizado."), code="report_not_finalized"
            )
        stored = report_pdf_store(
            report=report,
            data=issued.data,
            reason="regenerate",
            fingerprint=issued.fingerprint,
            content_sha256=issued.content_sha256,
            signed=issued.signed,
        )
        locked.pdf_file = stored.file
        locked.pdf_sha256 = stored.sha256
        locked.save(update_fields=["pdf_file", "pdf_sha256", "updated_at"])
    return "regenerated"


def report_regenerate_execute(*, job: Job, progress: Progress) -> dict[str, Any]:
    """The body of the `reports.regenerate` job: one report at a time, each in
    its own transaction; a failing report is recorded and the rest go on.
    Progress is written at a bounded rate by `progress`."""
    if job.params.get("all"):
        ids = list(
            Report.objects.filter(status__in=FINAL_REPORT_STATUSES)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    else:
        ids = [int(value) for value in job.params.get("report_ids", [])]
    progress(0, len(ids), force=True)
    counts = {"regenerated": 0, "unchanged": 0, "failed": 0}
    errors: list[dict[str, Any]] = []
    for done, report_id in enumerate(ids, start=1):
        try:
            counts[report_regenerate_one(report_id=report_id)] += 1
        except DATABASE_TRANSIENT_ERRORS:
            # The database connection, not this report: the job retries, and
            # the reports already done come out "unchanged" then.
            raise
        except DomainError as exc:
            counts["failed"] += 1
            errors.append({"id": report_id, "ok": False, "error": exc.message})
        except Exception as exc:
            logger.exception("regenerating report %s failed", report_id)
            counts["failed"] += 1
            errors.append(
                {"id": report_id, "ok": False, "error": f"{type(exc).__name__}: {exc}"}
            )
        progress(done)
    return {
        **counts,
        "succeeded": counts["regenerated"] + counts["unchanged"],
        "total": len(ids),
        "items": errors[:500],
        "message": _(
            "%(regenerated)s regenerados, %(unchanged)s sin cambios, "
            "%(failed)s con error."
        )
        % counts,
    }
