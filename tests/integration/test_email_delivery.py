"""E-mail delivery end to end: a real Celery worker over the real broker and a
real SMTP server (issue 3, "E-mail tests (real SMTP)")."""

from __future__ import annotations

import threading
import time
from email.header import decode_header, make_header

import pytest
from django.db import transaction

from conftest import SmtpSink, free_port
from patolab.notifications import emails
from patolab.notifications.models import EmailLog, EmailStatus
from patolab.notifications.tasks import email_send
from patolab.notifications.tests.factories import (
    make_protocol,
    make_received_protocol,
)
from patolab.notifications.tests.smtp import ScriptedSmtp, point_django_at

pytestmark = pytest.mark.integration


def subject_of(msg) -> str:
    return str(make_header(decode_header(msg["Subject"])))


def test_reception_email_is_delivered_once_to_the_right_address(
    celery_worker, smtp_sink, vet_owner, wait
):
    vet = vet_owner.veterinarian
    vet.notification_email = "recepcion@clinica.example"
    vet.save()
    with transaction.atomic():
        protocol = make_received_protocol(vet_owner)
        log = emails.protocol_received(protocol=protocol)
    wait(lambda: EmailLog.objects.get(pk=log.pk).status == EmailStatus.SENT)
    time.sleep(1)  # room for a duplicate to show up, if there were one
    [msg] = smtp_sink.messages
    assert msg["X-Envelope-To"] == "recepcion@clinica.example"
    assert protocol.protocol_number in subject_of(msg)
    assert EmailLog.objects.get(pk=log.pk).attempts == 1


def test_email_arrives_once_when_smtp_comes_up_10_seconds_late(
    celery_worker, settings, vet_owner, wait
):
    port = free_port()
    point_django_at(settings, port)
    settings.CELERY_RETRY_BACKOFF_MAX = 2  # keep retries short for the test
    settings.EMAIL_MAX_RETRIES = 30  # ...and enough of them to outlast the 10 s
    sink = SmtpSink(port=port)
    starter = threading.Timer(10, sink.start)
    starter.start()
    try:
        with transaction.atomic():
            protocol = make_received_protocol(vet_owner)
            log = emails.protocol_received(protocol=protocol)
        # While the server is down the row goes back to queued with the error.
        wait(lambda: EmailLog.objects.get(pk=log.pk).attempts >= 2, timeout=9)
        row = EmailLog.objects.get(pk=log.pk)
        assert row.status != EmailStatus.SENT
        assert "ConnectionRefusedError" in row.last_error
        wait(
            lambda: EmailLog.objects.get(pk=log.pk).status == EmailStatus.SENT,
            timeout=30,
        )
        time.sleep(3)
        assert len(sink.messages) == 1
        assert protocol.protocol_number in subject_of(sink.messages[0])
        assert EmailLog.objects.get(pk=log.pk).last_error == ""
    finally:
        starter.cancel()
        sink.stop()


def test_the_send_task_delivered_twice_sends_once(
    celery_worker, smtp_sink, vet_owner, wait
):
    smtp_sink.delay = 1  # keep the first run in `sending` while the others arrive
    with transaction.atomic():
        protocol = make_received_protocol(vet_owner)
        log = emails.protocol_received(protocol=protocol)
    # Two more deliveries of the same message (as a broker redelivery would).
    email_send.delay(log.pk)
    email_send.delay(log.pk)
    wait(lambda: EmailLog.objects.get(pk=log.pk).status == EmailStatus.SENT)
    email_send.delay(log.pk)  # and one after it was sent
    time.sleep(3)
    assert len(smtp_sink.messages) == 1
    assert EmailLog.objects.get(pk=log.pk).attempts == 1


def test_permanent_rejection_ends_failed_with_the_reason_and_no_retry(
    celery_worker, settings, vet_owner, wait
):
    server = ScriptedSmtp(port=free_port(), rcpt_reply="550 5.1.1 Buzón inexistente")
    server.start()
    point_django_at(settings, server.port)
    settings.CELERY_RETRY_BACKOFF_MAX = 1
    try:
        with transaction.atomic():
            protocol = make_received_protocol(vet_owner)
            log = emails.protocol_received(protocol=protocol)
        wait(lambda: EmailLog.objects.get(pk=log.pk).status == EmailStatus.FAILED)
        time.sleep(3)  # a retry would have run by now
        row = EmailLog.objects.get(pk=log.pk)
        assert row.status == EmailStatus.FAILED
        assert row.attempts == 1
        assert "550" in row.last_error
        assert "Buzón inexistente" in row.last_error
        assert server.messages == []
    finally:
        server.stop()


def test_bulk_reception_job_delivers_one_email_per_protocol(
    celery_worker, smtp_sink, api, admin, vet_owner, vet_other, wait
):
    from patolab.jobs.models import Job, JobState

    first = make_received_protocol(vet_owner)
    second = make_received_protocol(vet_other)
    response = api(admin).post(
        "/api/v1/notifications/bulk",
        {"protocol_ids": [first.pk, second.pk], "email_type": "reception"},
    )
    assert response.status_code == 202
    job_id = response.json()["id"]
    job = wait(
        lambda: Job.objects.filter(pk=job_id, state=JobState.SUCCEEDED).first(),
        timeout=30,
    )
    assert (job.result["sent"], job.result["skipped"], job.result["failed"]) == (
        2,
        0,
        0,
    )
    wait(lambda: len(smtp_sink.messages) == 2)
    time.sleep(1)
    assert len(smtp_sink.messages) == 2
    assert sorted(m["X-Envelope-To"] for m in smtp_sink.messages) == [
        "vet_other@vet.example",
        "vet_owner@vet.example",
    ]


def test_receiving_a_protocol_delivers_one_reception_email_with_its_number(
    celery_worker, smtp_sink, technician, vet_owner, wait
):
    """The real reception service, as staff use it, wired to the pipeline."""
    from patolab.protocols.services.reception import protocol_receive

    protocol = make_protocol(vet_owner, containers=2)
    received = protocol_receive(
        protocol=protocol,
        received_by=technician,
        sample_condition="optimal",
        containers=2,
    )
    assert received.protocol_number
    [msg] = wait(lambda: smtp_sink.messages)
    time.sleep(1.5)
    assert len(smtp_sink.messages) == 1
    assert msg["X-Envelope-To"] == "vet_owner@vet.example"
    assert received.protocol_number in subject_of(msg)
    assert "muestra recibida" in subject_of(msg)


def test_sweeper_delivers_an_email_whose_broker_message_was_lost(
    celery_worker, smtp_sink, vet_owner, wait
):
    from datetime import timedelta

    from django.utils import timezone

    from patolab.notifications.services import email_log_sweep

    protocol = make_received_protocol(vet_owner)
    # Created outside any transaction commit hook: as if Redis lost the message.
    log = EmailLog.objects.create(
        kind="received",
        idempotency_key="lost-message",
        protocol=protocol,
        recipient="vet_owner@vet.example",
        subject="[Lab] Protocolo perdido",
        body_text="texto",
        next_attempt_at=timezone.now() - timedelta(minutes=3),
    )
    time.sleep(1)
    assert smtp_sink.messages == []
    assert email_log_sweep()["resent_queued"] == 1
    wait(lambda: EmailLog.objects.get(pk=log.pk).status == EmailStatus.SENT)
    assert len(smtp_sink.messages) == 1
