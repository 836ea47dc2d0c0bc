from __future__ import annotations

import pytest

from patolab.notifications import emails
from patolab.notifications.models import EmailLog, EmailStatus
from patolab.notifications.tests.factories import make_received_protocol

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(django_user_model):
    return django_user_model.objects.create_superuser("root", "root@lab.example", "x")


def test_admin_searches_by_protocol_number(login, superuser, vet_owner):
    protocol = make_received_protocol(vet_owner)
    emails.protocol_received(protocol=protocol)
    client = login(superuser)
    response = client.get(
        "/admin/notifications/emaillog/", {"q": protocol.protocol_number}
    )
    assert response.status_code == 200
    assert protocol.protocol_number.encode() in response.content
    filtered = client.get("/admin/notifications/emaillog/", {"status__exact": "sent"})
    assert filtered.status_code == 200
    assert protocol.protocol_number.encode() not in filtered.content


def test_admin_resend_action_requeues_only_failed_rows(
    login, superuser, vet_owner, django_capture_on_commit_callbacks
):
    protocol = make_received_protocol(vet_owner)
    failed = emails.protocol_received(protocol=protocol)
    sent = emails.protocol_discrepancies(protocol=protocol)
    EmailLog.objects.filter(pk=failed.pk).update(
        status=EmailStatus.FAILED, attempts=9, last_error="550 no"
    )
    EmailLog.objects.filter(pk=sent.pk).update(status=EmailStatus.SENT)
    from patolab.jobs.models import Job
    from patolab.reports.resend import email_logs_resend_run

    client = login(superuser)
    response = client.post(
        "/admin/notifications/emaillog/",
        {"action": "resend_failed", "_selected_action": [failed.pk, sent.pk]},
    )
    # One job for the selection; the request itself re-queues nothing.
    job = Job.objects.get(kind="notifications.resend_failed")
    assert response.status_code == 302
    assert response["Location"].startswith(f"/trabajos/{job.pk}/")
    assert EmailLog.objects.get(pk=failed.pk).status == EmailStatus.FAILED

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = email_logs_resend_run(
            log_ids=job.params["log_ids"], progress=lambda *a, **k: None
        )
    assert result["message"] == "1 e-mails vueltos a la cola, 1 sin cambios."
    assert EmailLog.objects.get(pk=failed.pk).status == EmailStatus.QUEUED
    assert EmailLog.objects.get(pk=sent.pk).status == EmailStatus.SENT
    assert len(callbacks) == 1
