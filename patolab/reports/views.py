"""HTML views of the reports app: work queue, editor, detail, PDF download,
finalization progress and the public verification page."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from patolab.accounts.models import Role
from patolab.accounts.permissions import AuthenticatedHttpRequest, role_required
from patolab.core.documents import (
    document_get_or_start,
    document_response,
    document_serve_current,
)
from patolab.core.errors import DomainError
from patolab.jobs.views import document_pending_page
from patolab.protocols.models import AnalysisType

from .forms import CYTOLOGY_LABELS, AmendForm, AssignForm, ReportForm, VerifyUploadForm
from .jobs import REPORT_DOCUMENT
from .models import ReportStatus
from .selectors import (
    QUEUE_SCOPES,
    queue_items,
    report_finalize_preview,
    report_get_by_verification,
    report_get_for,
    report_get_for_download,
    report_job_get,
    report_latest_for_protocol,
    report_list_for,
    report_pathologists,
    report_pdf_history,
    report_protocol_for_report,
    report_verification,
    report_versions_for,
    report_work_queue,
)
from .services import (
    case_assign,
    report_amend,
    report_check_finalizable,
    report_create,
    report_request_finalize,
    report_update_draft,
)
from .verification import (
    report_signature_facts,
    report_upload_check,
)

REPORTERS = (Role.HISTOPATHOLOGIST,)


def _apply_error(form: Any, exc: DomainError) -> None:
    """Show a service error next to its field(s), or at the top of the form."""
    if exc.errors:
        for name, errors in exc.errors.items():
            for error in errors:
                form.add_error(name if name in form.fields else None, error)
    else:
        form.add_error(None, exc.message)


@role_required(*REPORTERS)
def work_queue(request: AuthenticatedHttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()
    analysis_type = request.GET.get("analysis_type", "")
    scope = request.GET.get("assigned", "all")
    if scope not in QUEUE_SCOPES:
        scope = "all"
    qs = report_work_queue(
        q=q, analysis_type=analysis_type, scope=scope, user=request.user
    )
    page = Paginator(qs, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "reports/queue.html",
        {
            "page": page,
            "items": queue_items(list(page.object_list)),
            "q": q,
            "analysis_type": analysis_type,
            "analysis_types": AnalysisType.choices,
            "scope": scope,
            "scopes": [
                ("mine", _("Míos")),
                ("unassigned", _("Sin asignar")),
                ("all", _("Todos")),
            ],
            "pathologists": list(report_pathologists()),
        },
    )


@require_POST
@role_required(*REPORTERS)
def case_assign_view(
    request: AuthenticatedHttpRequest, protocol_pk: int
) -> HttpResponse:
    """Assign, reassign or take a case from the queue; back to the same queue
    page (filters kept)."""
    protocol = report_protocol_for_report(pk=protocol_pk)
    form = AssignForm(request.POST)
    back = form.cleaned_data["next"] if form.is_valid() else ""
    if not back.startswith("/") or back.startswith("//"):
        back = reverse("reports:queue")
    if not form.is_valid():
        messages.error(request, _("Elija un histopatólogo/a."))
        return redirect(back)
    pathologist = (
        request.user if form.cleaned_data["take"] else form.cleaned_data["pathologist"]
    )
    try:
        case_assign(protocol=protocol, pathologist=pathologist, user=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        if pathologist is None:
            messages.success(
                request, _("%(code)s quedó sin asignar.") % {"code": protocol.code}
            )
        else:
            messages.success(
                request,
                _("%(code)s asignado a %(name)s.")
                % {"code": protocol.code, "name": pathologist.display_name},
            )
    return redirect(back)


@login_required
def report_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()
    status = request.GET.get("status", "")
    qs = report_list_for(user=request.user, status=status, q=q)
    page = Paginator(qs, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "reports/list.html",
        {"page": page, "q": q, "status": status, "statuses": ReportStatus.choices},
    )


@role_required(*REPORTERS)
def report_new(request: AuthenticatedHttpRequest, protocol_pk: int) -> HttpResponse:
    protocol = report_protocol_for_report(pk=protocol_pk)
    existing = report_latest_for_protocol(protocol=protocol)
    if existing is not None:
        return redirect("reports:edit", pk=existing.pk)
    form = ReportForm(request.POST or None, analysis_type=protocol.analysis_type)
    if request.method == "POST" and form.is_valid():
        try:
            report = report_create(
                protocol=protocol, histopathologist=request.user, **form.cleaned_data
            )
        except DomainError as exc:
            _apply_error(form, exc)
        else:
            if "finalize" in request.POST:
                return _to_confirmation(request, report=report, form=form)
            messages.success(request, _("Borrador guardado."))
            return redirect("reports:edit", pk=report.pk)
    return _editor(request, form=form, protocol=protocol, report=None)


def _to_confirmation(
    request: AuthenticatedHttpRequest, *, report: Any, form: ReportForm
) -> HttpResponse:
    """After saving, "Finalizar…" goes to the confirmation page, or shows at
    once in the editor why the draft cannot be finalized yet."""
    try:
        report_check_finalizable(report=report)
    except DomainError as exc:
        _apply_error(form, exc)
        return _editor(
            request,
            form=form,
            protocol=report.protocol,
            report=report,
            status=exc.status_code,
        )
    return redirect("reports:finalize", pk=report.pk)


def _editor(
    request: AuthenticatedHttpRequest,
    *,
    form: ReportForm,
    protocol: Any,
    report: Any,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "reports/editor.html",
        {
            "form": form,
            "protocol": protocol,
            "reception": getattr(protocol, "reception", None),
            "report": report,
        },
        status=status,
    )


@role_required(*REPORTERS)
def report_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    report = report_get_for(user=request.user, pk=pk)
    if report.status != ReportStatus.DRAFT:
        messages.info(request, _("El informe ya no es un borrador."))
        return redirect("reports:detail", pk=report.pk)
    form = ReportForm(
        request.POST or None,
        initial=_texts(report),
        analysis_type=report.protocol.analysis_type,
    )
    if request.method == "POST" and form.is_valid():
        try:
            report = report_update_draft(
                report=report, user=request.user, **form.cleaned_data
            )
        except DomainError as exc:
            _apply_error(form, exc)
        else:
            if "finalize" in request.POST:
                return _to_confirmation(request, report=report, form=form)
            messages.success(request, _("Borrador guardado."))
            return redirect("reports:edit", pk=report.pk)
    return _editor(request, form=form, protocol=report.protocol, report=report)


def _texts(report: Any) -> dict[str, str]:
    return {
        name: getattr(report, name)
        for name in ("macroscopic", "microscopic", "diagnosis", "comments")
    }


@role_required(*REPORTERS)
def report_finalize_view(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Finalizing is irreversible and e-mails the veterinarian: GET shows what
    will be sent and to whom; only the POST of that page starts the job."""
    report = report_get_for(user=request.user, pk=pk)
    if report.status in (ReportStatus.FINALIZED, ReportStatus.SENT):
        messages.info(request, _("El informe ya está finalizado."))
        return redirect("reports:detail", pk=report.pk)
    try:
        if request.method == "POST":
            job = report_request_finalize(report=report, user=request.user)
            return redirect("reports:finalizing", pk=report.pk, job_id=job.pk)
        report_check_finalizable(report=report)
    except DomainError as exc:
        form = ReportForm(
            initial=_texts(report), analysis_type=report.protocol.analysis_type
        )
        _apply_error(form, exc)
        return _editor(
            request,
            form=form,
            protocol=report.protocol,
            report=report,
            status=exc.status_code,
        )
    return render(
        request,
        "reports/finalize_confirm.html",
        {"report": report, "preview": report_finalize_preview(report=report)},
    )


@login_required
def report_finalizing(
    request: AuthenticatedHttpRequest, pk: int, job_id: UUID
) -> HttpResponse:
    report = report_get_for(user=request.user, pk=pk)
    job = report_job_get(report=report, job_id=job_id)
    return render(request, "reports/finalizing.html", {"report": report, "job": job})


@login_required
def report_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    report = report_get_for(user=request.user, pk=pk)
    verification = report_verification(report=report) if report.pdf_sha256 else None
    versions = report_versions_for(user=request.user, protocol=report.protocol)
    return render(
        request,
        "reports/detail.html",
        {
            "report": report,
            "versions": versions,
            "current_version": next(
                (v for v in versions if v.version == report.superseded_by_version),
                None,
            ),
            "pdfs": report_pdf_history(report=report),
            "verification": verification,
            "signature": report_signature_facts(report=report)
            if report.pdf_sha256
            else None,
            "amend_form": AmendForm(),
            "can_edit": request.user.is_histopathologist or request.user.is_admin_role,
            "labels": CYTOLOGY_LABELS
            if report.protocol.analysis_type == AnalysisType.CYTOLOGY
            else {},
        },
    )


@login_required
def report_pdf(request: AuthenticatedHttpRequest, pk: int) -> HttpResponseBase:
    """The current PDF; while it is being made, a page that follows the job
    (202); a draft or a broken finalization goes back to the report."""
    current = document_serve_current(request, REPORT_DOCUMENT, pk=pk)
    if current is not None:
        return current
    report = report_get_for_download(user=request.user, pk=pk)
    try:
        state = document_get_or_start(REPORT_DOCUMENT, report, user=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("reports:detail", pk=report.pk)
    if state.document is not None:
        return document_response(request, REPORT_DOCUMENT, report, state.document)
    return document_pending_page(
        request,
        REPORT_DOCUMENT,
        report,
        state,
        title=_("El PDF se está generando"),
        back_url=reverse("reports:detail", kwargs={"pk": report.pk}),
        status=202,
    )


@require_POST
@role_required(*REPORTERS)
def report_amend_view(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    report = report_get_for(user=request.user, pk=pk)
    form = AmendForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Indique el motivo de la enmienda."))
        return redirect("reports:detail", pk=report.pk)
    try:
        new = report_amend(
            report=report, user=request.user, reason=form.cleaned_data["reason"]
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("reports:detail", pk=report.pk)
    messages.success(
        request, _("Se creó la versión %(v)s en borrador.") % {"v": new.version}
    )
    return redirect("reports:edit", pk=new.pk)


def verify(request: HttpRequest, verification_id: str) -> HttpResponse:
    """Public (no login): is this report authentic and current? An uploaded
    PDF is compared with every issued PDF of the report and its digital
    signature is validated (`reports.verification`). An unknown or malformed
    code gets the Spanish "no report was issued" page (404), never Django's
    debug page."""
    try:
        report = report_get_by_verification(verification_id=UUID(verification_id))
    except (ValueError, Http404):
        return render(
            request,
            "reports/verify_unknown.html",
            {"code": verification_id[:80]},
            status=404,
        )
    posted = request.method == "POST"
    form = (
        VerifyUploadForm(request.POST, request.FILES) if posted else VerifyUploadForm()
    )
    upload = None
    if posted and form.is_valid():
        data = b"".join(form.cleaned_data["file"].chunks())
        upload = report_upload_check(report=report, data=data)
    verification = report_verification(
        report=report, sha256=upload.sha256 if upload else ""
    )
    if upload is not None:
        # Across every version, not only this one (see UploadCheck).
        verification.match = upload.match
    return render(
        request,
        "reports/verify.html",
        {
            "verification": verification,
            "form": form,
            "uploaded_sha": upload.sha256 if upload else "",
            "upload": upload,
            "signature": report_signature_facts(report=report),
        },
    )
