"""`GET /api/v1/emails` and `POST /api/v1/notifications/bulk` (API.md)."""

from __future__ import annotations

import pytest

from patolab.jobs.models import Job
from patolab.notifications import emails
from patolab.notifications.models import EmailLog
from patolab.notifications.tests.factories import (
    make_finalized_report,
    make_protocol,
    make_received_protocol,
)
from patolab.reports.resend import notifications_bulk_run

pytestmark = pytest.mark.django_db


def test_admin_lists_emails_of_one_protocol_paginated(api, admin, vet_owner):
    one = make_received_protocol(vet_owner)
    other = make_received_protocol(vet_owner)
    emails.protocol_received(protocol=one)
    emails.protocol_discrepancies(protocol=one)
    emails.protocol_received(protocol=other)
    client = api(admin)
    body = client.get("/api/v1/emails", protocol_id=one.pk, page_size=1).json()
    assert body["count"] == 2
    assert len(body["results"]) == 1
    assert body["next"] is not None
    item = body["results"][0]
    assert item["protocol_id"] == one.pk
    assert item["protocol_number"] == one.protocol_number
    assert item["status"] == "queued"
    assert item["recipient"] == "vet_owner@vet.example"
    assert client.get("/api/v1/emails").json()["count"] == 3


@pytest.mark.parametrize("persona", ["vet_owner", "technician", "pathologist"])
def test_only_admins_may_list_emails(api, persona, request):
    response = api(request.getfixturevalue(persona)).get("/api/v1/emails")
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden_role"


def test_bulk_reception_returns_202_job_on_bulk_queue(api, admin, vet_owner):
    protocol = make_received_protocol(vet_owner)
    response = api(admin).post(
        "/api/v1/notifications/bulk",
        {"protocol_ids": [protocol.pk], "email_type": "reception"},
    )
    assert response.status_code == 202
    body = response.json()
    assert body["kind"] == "notifications.bulk"
    assert response["Location"] == body["url"]
    job = Job.objects.get(pk=body["id"])
    assert job.queue == "bulk"
    assert job.params == {"protocol_ids": [protocol.pk], "email_type": "reception"}


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"protocol_ids": [], "email_type": "reception"}, "protocol_ids"),
        ({"protocol_ids": [999999], "email_type": "reception"}, "protocol_ids"),
        ({"protocol_ids": [1], "email_type": "spam"}, "email_type"),
        ({"email_type": "reception"}, "protocol_ids"),
    ],
)
def test_bulk_with_bad_input_is_400_and_creates_no_job(api, admin, payload, field):
    response = api(admin).post("/api/v1/notifications/bulk", payload)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert field in body["errors"]
    assert not Job.objects.exists()


def test_bulk_is_admin_only(api, technician, vet_owner):
    protocol = make_received_protocol(vet_owner)
    response = api(technician).post(
        "/api/v1/notifications/bulk",
        {"protocol_ids": [protocol.pk], "email_type": "reception"},
    )
    assert response.status_code == 403
    assert not Job.objects.exists()


def test_bulk_reception_counts_sent_and_skipped(vet_owner, vet_other):
    received = make_received_protocol(vet_owner)
    not_received = make_protocol(vet_owner)
    opted_out = make_received_protocol(vet_other)
    vet = vet_other.veterinarian
    vet.notify_reception = False
    vet.save()
    seen = []
    result = notifications_bulk_run(
        job_id="j1",
        protocol_ids=[received.pk, not_received.pk, opted_out.pk],
        email_type="reception",
        progress=lambda current, total: seen.append((current, total)),
    )
    assert (result["sent"], result["skipped"], result["failed"]) == (1, 2, 0)
    assert seen[-1] == (3, 3)
    assert EmailLog.objects.filter(protocol=received).count() == 1
    # Re-running the same job (a redelivery) does not mail twice.
    notifications_bulk_run(
        job_id="j1",
        protocol_ids=[received.pk],
        email_type="reception",
        progress=lambda *a: None,
    )
    assert EmailLog.objects.filter(protocol=received).count() == 1


def test_bulk_report_ready_uses_latest_finalized_pdf_and_skips_without_one(
    vet_owner, pathologist
):
    with_report = make_received_protocol(vet_owner)
    report = make_finalized_report(with_report, pathologist)
    without_report = make_received_protocol(vet_owner)
    result = notifications_bulk_run(
        job_id="j2",
        protocol_ids=[with_report.pk, without_report.pk],
        email_type="report_ready",
        progress=lambda *a: None,
    )
    assert (result["sent"], result["skipped"], result["failed"]) == (1, 1, 0)
    log = EmailLog.objects.get(protocol=with_report)
    assert log.kind == "report_ready"
    assert log.attachments[0]["path"] == report.pdf_file
    assert report.pdf_sha256 in log.idempotency_key


def test_bulk_reports_a_failing_protocol_without_stopping(vet_owner, monkeypatch):
    good = make_received_protocol(vet_owner)
    result = notifications_bulk_run(
        job_id="j3",
        protocol_ids=[123456789, good.pk],
        email_type="reception",
        progress=lambda *a: None,
    )
    assert (result["sent"], result["failed"]) == (1, 1)
    assert result["items"][0]["id"] == 123456789
    assert "no existe" in result["items"][0]["error"]
