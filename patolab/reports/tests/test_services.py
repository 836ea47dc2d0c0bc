from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.utils import timezone

from patolab.core.errors import Conflict, NotAllowed, ValidationFailed
from patolab.core.files import sha256_hex, store_bytes
from patolab.jobs.models import Job, JobState
from patolab.notifications.models import EmailLog
from patolab.protocols.models import ProtocolStatus
from patolab.protocols.tests.factories import make_protocol, make_received
from patolab.reports.models import Report, ReportPdf, ReportStatus
from patolab.reports.services import (
    report_amend,
    report_create,
    report_finalize_execute,
    report_pdf_render_signed,
    report_regenerate_one,
    report_request_finalize,
    report_update_draft,
)

pytestmark = pytest.mark.django_db


def finalize_now(report, user):
    """Request finalization and run the job body in-process (no worker)."""
    job = report_request_finalize(report=report, user=user)
    report_finalize_execute(report_id=report.pk, user_id=user.pk)
    report.refresh_from_db()
    return job


def test_create_makes_a_version_one_draft(draft_report, received_protocol):
    assert draft_report.status == ReportStatus.DRAFT
    assert draft_report.version == 1
    assert draft_report.protocol_id == received_protocol.pk


def test_second_report_for_the_same_protocol_is_a_conflict(draft_report, pathologist):
    with pytest.raises(Conflict) as exc:
        report_create(protocol=draft_report.protocol, histopathologist=pathologist)
    assert exc.value.code == "report_exists"
    assert Report.objects.count() == 1


def test_a_submitted_protocol_cannot_get_a_report(vet_owner, pathologist):
    protocol = make_protocol(vet_owner)
    with pytest.raises(Conflict) as exc:
        report_create(protocol=protocol, histopathologist=pathologist)
    assert exc.value.code == "protocol_not_reportable"
    assert not Report.objects.exists()


def test_a_veterinarian_cannot_write_reports(received_protocol, vet_owner):
    with pytest.raises(NotAllowed):
        report_create(protocol=received_protocol, histopathologist=vet_owner)


def test_draft_edit_changes_only_the_given_fields(draft_report, pathologist):
    report_update_draft(report=draft_report, user=pathologist, diagnosis="Lipoma.")
    draft_report.refresh_from_db()
    assert draft_report.diagnosis == "Lipoma."
    assert draft_report.macroscopic.startswith("Nódulo cutáneo")


def test_too_long_text_is_refused_and_nothing_changes(draft_report, pathologist):
    with pytest.raises(ValidationFailed) as exc:
        report_update_draft(
            report=draft_report, user=pathologist, comments="x" * 20_001
        )
    assert "comments" in exc.value.errors
    draft_report.refresh_from_db()
    assert draft_report.comments == "Se sugiere control clínico en 3 meses."


def test_finalize_without_diagnosis_is_refused(received_protocol, pathologist):
    report = report_create(protocol=received_protocol, histopathologist=pathologist)
    with pytest.raises(ValidationFailed) as exc:
        report_request_finalize(report=report, user=pathologist)
    assert "diagnosis" in exc.value.errors
    report.refresh_from_db()
    assert report.status == ReportStatus.DRAFT
    assert not Job.objects.filter(kind="report.finalize").exists()


def test_finalize_request_marks_finalizing_and_queues_one_job(
    draft_report, pathologist
):
    job = report_request_finalize(report=draft_report, user=pathologist)
    draft_report.refresh_from_db()
    assert draft_report.status == ReportStatus.FINALIZING
    assert job.kind == "report.finalize"
    assert job.queue == "pdf_generation"
    assert job.state == JobState.QUEUED


def test_second_finalize_click_returns_the_same_job(draft_report, pathologist):
    first = report_request_finalize(report=draft_report, user=pathologist)
    second = report_request_finalize(report=draft_report, user=pathologist)
    assert second.pk == first.pk
    assert Job.objects.filter(kind="report.finalize").count() == 1


def test_editing_a_finalizing_report_is_a_conflict(draft_report, pathologist):
    report_request_finalize(report=draft_report, user=pathologist)
    with pytest.raises(Conflict):
        report_update_draft(report=draft_report, user=pathologist, diagnosis="Otro")
    draft_report.refresh_from_db()
    assert draft_report.diagnosis.startswith("Mastocitoma")


def test_finalize_job_body_stores_pdf_emails_and_moves_protocol(
    draft_report, pathologist, settings
):
    finalize_now(draft_report, pathologist)
    assert draft_report.status == ReportStatus.SENT
    assert draft_report.finalized_at is not None
    assert len(draft_report.pdf_sha256) == 64
    pdf = ReportPdf.objects.get(report=draft_report)
    assert pdf.reason == "finalize"
    assert pdf.sha256 == draft_report.pdf_sha256
    assert "/" not in pdf.file.removeprefix("reports/")
    assert " " not in pdf.file
    protocol = draft_report.protocol
    protocol.refresh_from_db()
    assert protocol.status == ProtocolStatus.REPORT_SENT
    # received -> processing -> ready -> report_sent, each in the history.
    steps = list(protocol.history.values_list("to_status", flat=True))
    assert steps[-3:] == ["processing", "ready", "report_sent"]
    mail = EmailLog.objects.get(kind="report_ready")
    assert mail.attachments[0]["path"] == pdf.file


def test_finalized_report_is_immutable(draft_report, pathologist):
    finalize_now(draft_report, pathologist)
    with pytest.raises(Conflict) as exc:
        report_update_draft(report=draft_report, user=pathologist, diagnosis="Otro")
    assert exc.value.code == "report_not_editable"
    with pytest.raises(Conflict) as exc:
        report_request_finalize(report=draft_report, user=pathologist)
    assert exc.value.code == "report_finalized"


def test_running_the_job_body_twice_stores_one_pdf_and_one_email(
    draft_report, pathologist
):
    finalize_now(draft_report, pathologist)
    first_hash = draft_report.pdf_sha256
    # Simulate a redelivery after the report was already done.
    report_finalize_execute(report_id=draft_report.pk, user_id=pathologist.pk)
    draft_report.refresh_from_db()
    assert draft_report.pdf_sha256 == first_hash
    assert ReportPdf.objects.filter(report=draft_report).count() == 1
    assert EmailLog.objects.filter(kind="report_ready").count() == 1
    assert draft_report.protocol.history.filter(to_status="report_sent").count() == 1


def test_a_crash_after_storing_the_pdf_file_signs_again_and_records_once(
    draft_report, pathologist
):
    report_request_finalize(report=draft_report, user=pathologist)
    # The state a run leaves when it dies after writing the signed file but
    # before recording it: a file in storage, no ReportPdf row, no e-mail.
    Report.objects.filter(pk=draft_report.pk).update(finalized_at=timezone.now())
    draft_report.refresh_from_db()
    lost = report_pdf_render_signed(report=draft_report)
    store_bytes(f"reports/lost-{draft_report.pk}.pdf", lost.data)
    report_finalize_execute(report_id=draft_report.pk, user_id=pathologist.pk)
    draft_report.refresh_from_db()
    pdf = ReportPdf.objects.get(report=draft_report)
    # Same rendering (report date fixed once), signed anew: a signature is
    # never byte-identical (signing time, document id).
    assert pdf.content_sha256 == lost.content_sha256
    assert draft_report.pdf_sha256 == pdf.sha256 != sha256_hex(lost.data)
    assert EmailLog.objects.filter(kind="report_ready").count() == 1


def test_a_crash_between_the_two_commits_is_completed_by_the_rerun(
    draft_report, pathologist, monkeypatch
):
    """The e-mail leaves on the first commit; the protocol moves in the
    second. A run that dies in between leaves a sent report on a protocol
    not yet moved, and its rerun moves it without a second PDF or e-mail."""
    from patolab.protocols import services

    report_request_finalize(report=draft_report, user=pathologist)

    def crash(**kwargs):
        raise RuntimeError("worker died")

    with monkeypatch.context() as patched:
        patched.setattr(services, "protocol_advance", crash)
        with pytest.raises(RuntimeError):
            report_finalize_execute(report_id=draft_report.pk, user_id=pathologist.pk)
    draft_report.refresh_from_db()
    assert draft_report.status == ReportStatus.SENT
    assert EmailLog.objects.filter(kind="report_ready").count() == 1
    assert draft_report.protocol.status != ProtocolStatus.REPORT_SENT

    report_finalize_execute(report_id=draft_report.pk, user_id=pathologist.pk)
    draft_report.refresh_from_db()
    draft_report.protocol.refresh_from_db()
    assert draft_report.protocol.status == ProtocolStatus.REPORT_SENT
    assert draft_report.protocol.history.filter(to_status="report_sent").count() == 1
    assert ReportPdf.objects.filter(report=draft_report).count() == 1
    assert EmailLog.objects.filter(kind="report_ready").count() == 1


def test_a_protocol_that_cannot_take_a_report_rolls_the_finalization_back(
    draft_report, pathologist
):
    """Checked under lock before the e-mail is recorded: nothing is sent."""
    from patolab.protocols.models import Protocol

    report_request_finalize(report=draft_report, user=pathologist)
    Protocol.objects.filter(pk=draft_report.protocol_id).update(
        status=ProtocolStatus.CANCELLED
    )
    with pytest.raises(Conflict) as exc:
        report_finalize_execute(report_id=draft_report.pk, user_id=pathologist.pk)
    assert exc.value.code == "invalid_transition"
    draft_report.refresh_from_db()
    assert draft_report.status == ReportStatus.FINALIZING
    assert not ReportPdf.objects.filter(report=draft_report).exists()
    assert not EmailLog.objects.filter(kind="report_ready").exists()


def test_amend_creates_a_new_draft_version_linked_to_the_old(draft_report, pathologist):
    finalize_now(draft_report, pathologist)
    new = report_amend(report=draft_report, user=pathologist, reason="Error de tipeo")
    assert new.version == 2
    assert new.status == ReportStatus.DRAFT
    assert new.supersedes_id == draft_report.pk
    assert new.diagnosis == draft_report.diagnosis
    assert new.verification_id != draft_report.verification_id
    with pytest.raises(Conflict) as exc:
        report_amend(report=draft_report, user=pathologist, reason="otra")
    assert exc.value.code == "report_already_amended"


def test_amending_a_draft_or_without_reason_is_refused(draft_report, pathologist):
    with pytest.raises(Conflict):
        report_amend(report=draft_report, user=pathologist, reason="x")
    finalize_now(draft_report, pathologist)
    with pytest.raises(ValidationFailed):
        report_amend(report=draft_report, user=pathologist, reason="  ")
    assert Report.objects.count() == 1


def test_finalizing_an_amendment_sends_a_new_email_and_keeps_protocol(
    draft_report, pathologist
):
    finalize_now(draft_report, pathologist)
    new = report_amend(report=draft_report, user=pathologist, reason="Corrección")
    report_update_draft(report=new, user=pathologist, diagnosis="Mastocitoma grado I")
    finalize_now(new, pathologist)
    assert new.status == ReportStatus.SENT
    assert new.pdf_sha256 != draft_report.pdf_sha256
    assert EmailLog.objects.filter(kind="report_ready").count() == 2
    assert draft_report.protocol.history.filter(to_status="report_sent").count() == 1


def test_regenerating_with_a_changed_template_keeps_earlier_hashes(
    draft_report, pathologist, settings
):
    finalize_now(draft_report, pathologist)
    assert report_regenerate_one(report_id=draft_report.pk) == "unchanged"
    old = draft_report.pdf_sha256
    settings.LAB_NAME = "Laboratorio de Patología Veterinaria · Sede Centro"
    assert report_regenerate_one(report_id=draft_report.pk) == "regenerated"
    draft_report.refresh_from_db()
    assert draft_report.pdf_sha256 != old
    pdfs = list(ReportPdf.objects.filter(report=draft_report))
    assert [p.reason for p in pdfs] == ["finalize", "regenerate"]
    assert {p.sha256 for p in pdfs} == {old, draft_report.pdf_sha256}


def test_regenerating_a_draft_is_a_per_item_error(draft_report):
    with pytest.raises(Conflict):
        report_regenerate_one(report_id=draft_report.pk)


@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_finalize_requests_make_one_job(
    vet_owner, technician, pathologist
):
    protocol = make_received(vet_owner, technician)
    report = report_create(
        protocol=protocol, histopathologist=pathologist, diagnosis="Lipoma."
    )
    barrier = threading.Barrier(10)
    job_ids: list[str] = []
    errors: list[BaseException] = []

    def click() -> None:
        try:
            barrier.wait()
            job = report_request_finalize(
                report=Report.objects.get(pk=report.pk), user=pathologist
            )
            job_ids.append(str(job.pk))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(job_ids) == 10
    assert len(set(job_ids)) == 1
    assert Job.objects.filter(kind="report.finalize").count() == 1


def test_work_queue_is_oldest_first_with_turnaround_flags(vet_owner, technician):
    from datetime import timedelta

    from django.utils import timezone

    from patolab.protocols.models import Protocol
    from patolab.reports.selectors import queue_items, report_work_queue

    late = make_received(vet_owner, technician)  # histopathology: 7 days
    fresh = make_received(vet_owner, technician, kind="cytology")  # 3 days
    submitted = make_protocol(vet_owner)
    now = timezone.now()
    Protocol.objects.filter(pk=late.pk).update(received_at=now - timedelta(days=9))
    Protocol.objects.filter(pk=fresh.pk).update(received_at=now - timedelta(days=2))
    items = queue_items(list(report_work_queue()), now=now)
    assert [i.protocol.pk for i in items] == [late.pk, fresh.pk]
    assert submitted.pk not in [i.protocol.pk for i in items]
    assert (items[0].days_waiting, items[0].target_days, items[0].overdue) == (
        9,
        7,
        True,
    )
    assert (items[1].days_waiting, items[1].target_days, items[1].overdue) == (
        2,
        3,
        False,
    )


def test_pdf_data_carries_the_letterhead_settings_and_the_signers_license(
    draft_report, pathologist, settings
):
    from patolab.reports.documents import report_document_data

    settings.LAB_ADDRESS = "Calle 60 y 118, La Plata"
    settings.LAB_PHONE = "+54 221 555-0100"
    pathologist.license_number = "MV 4567"
    pathologist.save(update_fields=["license_number"])
    draft_report.refresh_from_db()
    data = report_document_data(draft_report)
    assert data.lab_address == "Calle 60 y 118, La Plata"
    assert data.lab_phone == "+54 221 555-0100"
    assert data.lab_logo_path == settings.LAB_LOGO
    assert data.histopathologist_license == "MV 4567"
    assert data.is_cytology is False
