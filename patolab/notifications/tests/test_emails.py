"""Each e-mail kind: subject, text and HTML parts, recipient, preferences and
idempotency (STYLE rule 9)."""

from __future__ import annotations

import pytest

from patolab.notifications import emails
from patolab.notifications.models import EmailKind, EmailLog, EmailStatus
from patolab.notifications.tests.factories import (
    make_finalized_report,
    make_protocol,
    make_received_protocol,
)
from patolab.protocols.models import AnalysisType, Reception

LAB = "Laboratorio de Patología Veterinaria"

pytestmark = pytest.mark.django_db


def assert_parts_contain(log: EmailLog, *needles: str) -> None:
    for needle in needles:
        assert needle in log.body_text, f"{needle!r} not in text part"
        assert needle in log.body_html, f"{needle!r} not in HTML part"


@pytest.fixture(autouse=True)
def _lab_name(settings):
    settings.LAB_NAME = LAB
    settings.SITE_URL = "https://lab.example"


def test_submitted_email_has_temporary_code_and_labelling_instructions(vet_owner):
    protocol = make_protocol(vet_owner, temporary_code="TMP-HP-20261128-007")
    log = emails.protocol_submitted(protocol=protocol)
    assert log.kind == EmailKind.SUBMITTED
    assert log.status == EmailStatus.QUEUED
    assert log.recipient == "vet_owner@vet.example"
    assert LAB in log.subject
    assert "TMP-HP-20261128-007" in log.subject
    assert_parts_contain(
        log,
        "TMP-HP-20261128-007",
        "Cómo rotular la muestra",
        "frasco (2 declarados)",
        "Firulais",
        "20/11/2026",
    )
    assert log.protocol_id == protocol.pk


def test_submitted_email_for_cytology_talks_about_slides(vet_owner):
    protocol = make_protocol(
        vet_owner,
        analysis_type=AnalysisType.CYTOLOGY,
        temporary_code="TMP-CT-20261128-001",
        slides=3,
    )
    log = emails.protocol_submitted(protocol=protocol)
    assert_parts_contain(log, "portaobjetos (3 declarados)")


def test_text_part_is_not_html_escaped(vet_owner):
    protocol = make_protocol(vet_owner, animal_name="Tom & Jerry <2>")
    log = emails.protocol_submitted(protocol=protocol)
    assert "Tom & Jerry <2>" in log.body_text
    assert "Tom &amp; Jerry &lt;2&gt;" in log.body_html


def test_submitted_email_skipped_when_vet_turned_it_off(vet_owner):
    vet = vet_owner.veterinarian
    vet.notify_submission = False
    vet.save()
    protocol = make_protocol(vet_owner)
    assert emails.protocol_submitted(protocol=protocol) is None
    assert EmailLog.objects.count() == 0


def test_received_email_has_number_in_subject_and_goes_to_alternative_address(
    vet_owner, technician
):
    vet = vet_owner.veterinarian
    vet.notification_email = "avisos@clinica.example"
    vet.save()
    protocol = make_received_protocol(vet_owner)
    Reception.objects.create(
        protocol=protocol,
        sample_condition="optimal",
        containers_received=2,
        received_by=technician,
        received_at=protocol.received_at,
    )
    log = emails.protocol_received(protocol=protocol)
    assert log.recipient == "avisos@clinica.example"
    assert (
        log.subject == f"[{LAB}] Protocolo {protocol.protocol_number}: muestra recibida"
    )
    assert_parts_contain(log, protocol.protocol_number, "Óptima", "Firulais")


def test_received_email_skipped_when_reception_notices_are_off(vet_owner):
    vet = vet_owner.veterinarian
    vet.notify_reception = False
    vet.save()
    protocol = make_received_protocol(vet_owner)
    assert emails.protocol_received(protocol=protocol) is None
    assert not EmailLog.objects.exists()


def test_discrepancies_email_is_sent_even_with_optional_emails_off(
    vet_owner, technician
):
    vet = vet_owner.veterinarian
    vet.notify_reception = False
    vet.notify_submission = False
    vet.save()
    protocol = make_received_protocol(vet_owner)
    Reception.objects.create(
        protocol=protocol,
        sample_condition="acceptable",
        containers_received=1,
        discrepancies="Llegó un solo frasco de los dos declarados.",
        received_by=technician,
        received_at=protocol.received_at,
    )
    log = emails.protocol_discrepancies(protocol=protocol)
    assert log.kind == EmailKind.DISCREPANCIES
    assert protocol.protocol_number in log.subject
    assert LAB in log.subject
    assert_parts_contain(
        log, "Declarado: 2", "Llegó un solo frasco de los dos declarados."
    )


def test_rejected_email_carries_the_reason(vet_owner):
    vet = vet_owner.veterinarian
    vet.notify_reception = False
    vet.save()
    protocol = make_protocol(
        vet_owner, status="rejected", rejection_reason="Frasco roto sin formol."
    )
    log = emails.protocol_rejected(protocol=protocol)
    assert protocol.temporary_code in log.subject
    assert "rechazada" in log.subject
    assert_parts_contain(log, "Frasco roto sin formol.")


def test_report_ready_attaches_pdf_and_is_always_sent(vet_owner, pathologist):
    vet = vet_owner.veterinarian
    vet.notify_reception = False
    vet.notify_submission = False
    vet.notification_email = "informes@clinica.example"
    vet.save()
    protocol = make_received_protocol(vet_owner)
    report = make_finalized_report(protocol, pathologist)
    log = emails.report_ready(
        report=report,
        pdf_path=report.pdf_file,
        filename="hp-26-001-1.pdf",
        sha256=report.pdf_sha256,
    )
    assert log.recipient == "informes@clinica.example"
    assert protocol.protocol_number in log.subject
    assert "informe listo" in log.subject
    assert log.attachments == [
        {
            "path": report.pdf_file,
            "filename": "hp-26-001-1.pdf",
            "mimetype": "application/pdf",
        }
    ]
    assert_parts_contain(log, report.pdf_sha256, protocol.protocol_number)


def test_report_ready_twice_with_same_pdf_is_one_email_new_pdf_is_another(
    vet_owner, pathologist, django_capture_on_commit_callbacks
):
    protocol = make_received_protocol(vet_owner)
    report = make_finalized_report(protocol, pathologist)
    kwargs = {"report": report, "pdf_path": report.pdf_file, "filename": "a.pdf"}
    with django_capture_on_commit_callbacks() as callbacks:
        first = emails.report_ready(sha256="a" * 64, **kwargs)
        again = emails.report_ready(sha256="a" * 64, **kwargs)
        regenerated = emails.report_ready(sha256="b" * 64, **kwargs)
    assert again.pk == first.pk
    assert regenerated.pk != first.pk
    assert EmailLog.objects.count() == 2
    assert len(callbacks) == 2  # one send per new row, none for the repeat


def test_calling_a_kind_twice_creates_one_row_and_enqueues_once(
    vet_owner, django_capture_on_commit_callbacks
):
    protocol = make_received_protocol(vet_owner)
    with django_capture_on_commit_callbacks() as callbacks:
        first = emails.protocol_received(protocol=protocol)
        second = emails.protocol_received(protocol=protocol)
    assert first.pk == second.pk
    assert EmailLog.objects.filter(kind=EmailKind.RECEIVED).count() == 1
    assert len(callbacks) == 1


def test_tagged_resend_is_a_new_email(vet_owner):
    protocol = make_received_protocol(vet_owner)
    first = emails.protocol_received(protocol=protocol)
    resend = emails.protocol_received(protocol=protocol, tag="bulk:1")
    assert resend.pk != first.pk


def test_nothing_is_enqueued_when_the_transaction_rolls_back(
    vet_owner, django_capture_on_commit_callbacks
):
    from django.db import transaction

    protocol = make_received_protocol(vet_owner)
    with django_capture_on_commit_callbacks() as callbacks:
        try:
            with transaction.atomic():
                emails.protocol_received(protocol=protocol)
                raise RuntimeError("boom")
        except RuntimeError:
            pass
    assert callbacks == []
    assert not EmailLog.objects.exists()


def test_account_verification_and_password_reset_carry_the_link(vet_owner):
    url = "https://lab.example/cuentas/verificar/abc/"
    log = emails.account_verification(user=vet_owner, url=url)
    assert LAB in log.subject
    assert log.recipient == vet_owner.email
    assert_parts_contain(log, url, "24 horas", vet_owner.username)
    reset_url = "https://lab.example/cuentas/restablecer/x/y/"
    reset = emails.password_reset(user=vet_owner, url=reset_url)
    assert LAB in reset.subject
    assert_parts_contain(reset, reset_url)
    # The same link twice is one e-mail; a new link is a new one.
    assert emails.password_reset(user=vet_owner, url=reset_url).pk == reset.pk
    assert emails.password_reset(user=vet_owner, url=reset_url + "2").pk != reset.pk


def test_email_queue_is_reusable_for_other_kinds(vet_owner):
    log = emails.email_queue(
        kind=EmailKind.WORK_ORDER,
        key="work_order:1:abc",
        recipient="x@example.com",
        subject_template_dir="notifications/password_reset",
        context={"user": vet_owner, "url": "https://u"},
        related="workorder:1",
    )
    assert log.kind == EmailKind.WORK_ORDER
    assert log.related == "workorder:1"
