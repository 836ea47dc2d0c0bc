"""The delivery service against a real SMTP server (aiosmtpd): claim, send,
record; transient vs permanent failures; the sweeper and the admin re-send."""

from __future__ import annotations

from datetime import timedelta
from email.header import decode_header, make_header

import pytest
from django.utils import timezone

from conftest import free_port
from patolab.notifications import emails
from patolab.notifications.models import EmailLog, EmailStatus
from patolab.notifications.services import (
    email_log_deliver,
    email_log_resend,
    email_log_sweep,
    message_id_for,
)
from patolab.notifications.tests.factories import (
    make_finalized_report,
    make_received_protocol,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued_email(vet_owner):
    protocol = make_received_protocol(vet_owner)
    return emails.protocol_received(protocol=protocol)


def test_delivery_sends_text_html_and_stable_message_id(scripted_smtp, queued_email):
    result = email_log_deliver(email_log_id=queued_email.pk)
    assert result.outcome == "sent"
    row = EmailLog.objects.get(pk=queued_email.pk)
    assert row.status == EmailStatus.SENT
    assert row.sent_at is not None
    assert row.attempts == 1
    assert row.last_error == ""
    [msg] = scripted_smtp.messages
    assert msg["To"] == "vet_owner@vet.example"
    assert msg["Message-ID"] == message_id_for(row.idempotency_key)
    assert row.message_id == msg["Message-ID"]
    subject = str(make_header(decode_header(msg["Subject"])))
    assert subject == row.subject
    assert queued_email.protocol.protocol_number in subject
    types = [part.get_content_type() for part in msg.walk()]
    assert "text/plain" in types
    assert "text/html" in types


def test_report_email_carries_the_stored_pdf(scripted_smtp, vet_owner, pathologist):
    protocol = make_received_protocol(vet_owner)
    report = make_finalized_report(protocol, pathologist, pdf=b"%PDF-1.4 informe")
    log = emails.report_ready(
        report=report,
        pdf_path=report.pdf_file,
        filename="hp-26-001-1.pdf",
        sha256=report.pdf_sha256,
    )
    assert email_log_deliver(email_log_id=log.pk).outcome == "sent"
    [msg] = scripted_smtp.messages
    [pdf] = [p for p in msg.walk() if p.get_content_type() == "application/pdf"]
    assert pdf.get_filename() == "hp-26-001-1.pdf"
    assert pdf.get_payload(decode=True) == b"%PDF-1.4 informe"


def test_a_sent_row_is_never_sent_again(scripted_smtp, queued_email):
    email_log_deliver(email_log_id=queued_email.pk)
    again = email_log_deliver(email_log_id=queued_email.pk)
    assert again.outcome == "skipped"
    assert len(scripted_smtp.messages) == 1
    assert EmailLog.objects.get(pk=queued_email.pk).attempts == 1


def test_a_row_being_sent_by_another_run_is_skipped(scripted_smtp, queued_email):
    EmailLog.objects.filter(pk=queued_email.pk).update(
        status=EmailStatus.SENDING, sending_started_at=timezone.now()
    )
    assert email_log_deliver(email_log_id=queued_email.pk).outcome == "skipped"
    assert scripted_smtp.messages == []


def test_a_row_stuck_in_sending_is_taken_over_after_the_timeout(
    scripted_smtp, queued_email
):
    EmailLog.objects.filter(pk=queued_email.pk).update(
        status=EmailStatus.SENDING,
        sending_started_at=timezone.now() - timedelta(minutes=6),
        attempts=1,
    )
    assert email_log_deliver(email_log_id=queued_email.pk).outcome == "sent"
    row = EmailLog.objects.get(pk=queued_email.pk)
    assert (row.status, row.attempts) == (EmailStatus.SENT, 2)
    assert len(scripted_smtp.messages) == 1


def test_connection_refused_goes_back_to_queued_with_a_retry_delay(
    settings, queued_email
):
    settings.EMAIL_BACKEND = "patolab.notifications.backends.PooledSmtpBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = free_port()  # nothing listens there
    settings.CELERY_RETRY_BACKOFF_MAX = 300
    before = timezone.now()
    result = email_log_deliver(email_log_id=queued_email.pk)
    assert result.outcome == "retry"
    assert 0 < result.retry_in <= 2
    row = EmailLog.objects.get(pk=queued_email.pk)
    assert row.status == EmailStatus.QUEUED
    assert "ConnectionRefusedError" in row.last_error
    assert row.attempts == 1
    assert row.next_attempt_at > before


def test_backoff_grows_and_is_capped(settings):
    from patolab.core.retry import retry_delay

    settings.CELERY_RETRY_BACKOFF_MAX = 30
    assert 1 <= retry_delay(1) <= 2
    assert 8 <= retry_delay(4) <= 16
    assert all(15 <= retry_delay(20) <= 30 for _ in range(20))


def test_4xx_on_recipient_is_transient(scripted_smtp, queued_email):
    scripted_smtp.rcpt_reply = "451 4.3.0 Intente más tarde"
    result = email_log_deliver(email_log_id=queued_email.pk)
    assert result.outcome == "retry"
    row = EmailLog.objects.get(pk=queued_email.pk)
    assert row.status == EmailStatus.QUEUED
    assert "451" in row.last_error


def test_5xx_on_recipient_fails_with_the_reason(scripted_smtp, queued_email):
    scripted_smtp.rcpt_reply = "550 5.1.1 Usuario inexistente"
    result = email_log_deliver(email_log_id=queued_email.pk)
    assert result.outcome == "failed"
    assert result.retry_in is None
    row = EmailLog.objects.get(pk=queued_email.pk)
    assert row.status == EmailStatus.FAILED
    assert "550" in row.last_error
    assert "Usuario inexistente" in row.last_error


def test_5xx_on_data_fails_with_the_reason(scripted_smtp, queued_email):
    scripted_smtp.data_reply = "554 5.6.0 Mensaje rechazado"
    result = email_log_deliver(email_log_id=queued_email.pk)
    assert result.outcome == "failed"
    row = EmailLog.objects.get(pk=queued_email.pk)
    assert row.status == EmailStatus.FAILED
    assert "554" in row.last_error


def test_retries_used_up_mark_the_row_failed(settings, queued_email):
    settings.EMAIL_BACKEND = "patolab.notifications.backends.PooledSmtpBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = free_port()
    settings.EMAIL_MAX_RETRIES = 2
    outcomes = [
        email_log_deliver(email_log_id=queued_email.pk).outcome for _ in range(3)
    ]
    assert outcomes == ["retry", "retry", "failed"]
    row = EmailLog.objects.get(pk=queued_email.pk)
    assert row.status == EmailStatus.FAILED
    assert "Se agotaron los reintentos" in row.last_error
    assert row.attempts == 3


def test_missing_attachment_fails_without_sending(
    scripted_smtp, vet_owner, pathologist
):
    protocol = make_received_protocol(vet_owner)
    report = make_finalized_report(protocol, pathologist)
    log = emails.report_ready(
        report=report, pdf_path="reports/no-existe.pdf", filename="x.pdf", sha256="c"
    )
    assert email_log_deliver(email_log_id=log.pk).outcome == "failed"
    row = EmailLog.objects.get(pk=log.pk)
    assert row.status == EmailStatus.FAILED
    assert "No se encontró el adjunto x.pdf" in row.last_error
    assert scripted_smtp.messages == []


def test_sweeper_resends_overdue_queued_and_recovers_stuck_sending(
    vet_owner, django_capture_on_commit_callbacks
):
    protocol = make_received_protocol(vet_owner)
    fresh = emails.protocol_received(protocol=protocol)
    overdue = emails.protocol_discrepancies(protocol=protocol)
    stuck = emails.protocol_rejected(protocol=protocol)
    waiting = emails.protocol_received(protocol=protocol, tag="retry-later")
    now = timezone.now()
    EmailLog.objects.filter(pk=overdue.pk).update(
        next_attempt_at=now - timedelta(minutes=3)
    )
    EmailLog.objects.filter(pk=stuck.pk).update(
        status=EmailStatus.SENDING, sending_started_at=now - timedelta(minutes=6)
    )
    EmailLog.objects.filter(pk=waiting.pk).update(
        next_attempt_at=now + timedelta(minutes=4)
    )
    with django_capture_on_commit_callbacks() as callbacks:
        result = email_log_sweep()
    assert result == {"requeued_sending": 1, "resent_queued": 1}
    assert len(callbacks) == 2
    assert EmailLog.objects.get(pk=stuck.pk).status == EmailStatus.QUEUED
    assert EmailLog.objects.get(pk=fresh.pk).status == EmailStatus.QUEUED
    # A second sweep right away re-sends nothing: next_attempt_at was bumped.
    with django_capture_on_commit_callbacks() as callbacks:
        assert email_log_sweep() == {"requeued_sending": 0, "resent_queued": 0}
    assert callbacks == []


def test_resend_puts_only_failed_rows_back_in_the_queue(
    queued_email, django_capture_on_commit_callbacks
):
    assert email_log_resend(log=queued_email) is False
    EmailLog.objects.filter(pk=queued_email.pk).update(
        status=EmailStatus.FAILED, attempts=3
    )
    with django_capture_on_commit_callbacks() as callbacks:
        assert email_log_resend(log=queued_email) is True
    row = EmailLog.objects.get(pk=queued_email.pk)
    assert (row.status, row.attempts) == (EmailStatus.QUEUED, 0)
    assert len(callbacks) == 1


def test_a_header_injection_fails_at_once_instead_of_retrying(
    scripted_smtp, queued_email
):
    EmailLog.objects.filter(pk=queued_email.pk).update(
        recipient="vet@x.example\nBcc: otro@x.example"
    )
    result = email_log_deliver(email_log_id=queued_email.pk)
    assert result.outcome == "failed"
    row = EmailLog.objects.get(pk=queued_email.pk)
    assert row.status == EmailStatus.FAILED
    assert row.last_error
    assert scripted_smtp.messages == []


def test_a_broker_down_at_commit_leaves_the_email_queued_for_the_sweeper(
    transactional_db, vet_owner, monkeypatch, caplog
):
    """A publish refused after the commit is logged, not raised (a partial
    callback made Django's robust on_commit raise AttributeError)."""
    from django.db import transaction
    from kombu.exceptions import OperationalError

    from config.celery import app

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1. Connection refused.")

    monkeypatch.setattr(app, "send_task", broker_down)
    with transaction.atomic():
        log = emails.protocol_received(protocol=make_received_protocol(vet_owner))
    assert EmailLog.objects.get(pk=log.pk).status == EmailStatus.QUEUED
    assert "Connection refused" in caplog.text
