"""Django-admin bulk actions are background jobs (issue 7, part A).

Through the real admin (test client), with a real worker and a real SMTP sink:
the POST answers with a redirect to one job, the job applies every valid change
with history, reports the invalid ones with reasons, and each e-mail arrives once.
"""

from __future__ import annotations

import time
from email.header import decode_header, make_header

import pytest

from patolab.jobs.models import Job, JobState
from patolab.protocols.models import Protocol, ProtocolStatus, ProtocolStatusHistory
from patolab.protocols.services import protocol_receive
from patolab.protocols.tests.factories import make_protocol, make_received

pytestmark = pytest.mark.integration

CHANGELIST = "/admin/protocols/protocol/"


@pytest.fixture
def superuser(admin):
    admin.is_staff = True
    admin.is_superuser = True
    admin.save()
    return admin


def received_now(vet_user, staff):
    # Labels rendered in place: this test is about the bulk jobs, and the test
    # worker (a thread pool) would otherwise spend its slots on 40 label jobs.
    return protocol_receive(
        protocol=make_protocol(vet_user),
        received_by=staff,
        sample_condition="optimal",
        containers=2,
        notify=False,
        render_labels=True,
    )


def finished(job_id):
    return Job.objects.filter(
        pk=job_id, state__in=[JobState.SUCCEEDED, JobState.FAILED]
    ).first()


def run_action(client, action, ids):
    response = client.post(
        CHANGELIST, {"action": action, "_selected_action": ids, "index": 0}
    )
    assert response.status_code == 302, response.content[:500]
    return response


def test_admin_actions_on_50_protocols_run_as_one_job_each_with_history_and_emails(
    celery_worker, smtp_sink, login, superuser, vet_owner, technician, wait
):
    received = [received_now(vet_owner, technician) for _ in range(40)]
    submitted = [make_protocol(vet_owner) for _ in range(10)]
    ids = [p.pk for p in received + submitted]
    client = login(superuser)

    response = run_action(client, "move_to_processing", ids)
    job = Job.objects.get(kind="protocols.bulk_status")
    assert response["Location"].startswith(f"/trabajos/{job.pk}/")
    assert Job.objects.filter(kind="protocols.bulk_status").count() == 1

    job = wait(lambda: finished(job.pk), timeout=120)
    assert job.state == JobState.SUCCEEDED, job.error
    assert (job.result["succeeded"], job.result["failed"]) == (40, 10)
    assert set(
        Protocol.objects.filter(pk__in=[p.pk for p in received]).values_list(
            "status", flat=True
        )
    ) == {ProtocolStatus.PROCESSING}
    assert (
        ProtocolStatusHistory.objects.filter(
            protocol__in=received, to_status=ProtocolStatus.PROCESSING
        ).count()
        == 40
    )
    failures = [item for item in job.result["items"] if not item["ok"]]
    assert {item["code"] for item in failures} == {p.temporary_code for p in submitted}
    assert all("No se puede pasar" in item["error"] for item in failures)
    assert set(
        Protocol.objects.filter(pk__in=[p.pk for p in submitted]).values_list(
            "status", flat=True
        )
    ) == {ProtocolStatus.SUBMITTED}

    # The job page speaks Spanish: the kind's title and each protocol's outcome.
    page = client.get(f"/trabajos/{job.pk}/").content.decode()
    assert "Cambio de estado masivo" in page
    assert "protocols.bulk_status" not in page
    assert received[0].protocol_number in page
    assert "Pasó a «En procesamiento»." in page
    assert submitted[0].temporary_code in page

    # Re-send the reception e-mail: one job, each received protocol mailed once.
    run_action(client, "resend_reception_email", ids)
    mail_job = Job.objects.get(kind="notifications.bulk")
    mail_job = wait(lambda: finished(mail_job.pk), timeout=120)
    assert mail_job.state == JobState.SUCCEEDED, mail_job.error
    wait(lambda: len(smtp_sink.messages) >= 40, timeout=120)
    time.sleep(1.5)  # a duplicate would arrive now
    assert len(smtp_sink.messages) == 40
    assert len({m["Message-ID"] for m in smtp_sink.messages}) == 40
    numbers = {p.protocol_number for p in received}
    subjects = [
        str(make_header(decode_header(m["Subject"]))) for m in smtp_sink.messages
    ]
    mailed = {n for subject in subjects for n in numbers if n in subject}
    assert mailed == numbers

    # Back on the changelist: one summary line per bulk job, never one per row.
    listing = client.get(CHANGELIST).content.decode()
    assert listing.count('id="bulk-jobs-banner"') == 1
    assert "40 protocolos actualizados, 10 con error." in listing
    assert listing.count("No se puede pasar") == 0


def test_bulk_action_request_does_not_touch_the_selected_protocols(
    login, superuser, vet_owner, technician, django_assert_max_num_queries
):
    ids = [make_received(vet_owner, technician).pk for _ in range(30)]
    client = login(superuser)
    client.get(CHANGELIST)  # warm up session and content types
    # The same bounded number of queries for 30 as for 3 protocols: no loop.
    with django_assert_max_num_queries(25) as few:
        run_action(client, "move_to_ready", ids[:3])
    with django_assert_max_num_queries(len(few.captured_queries)):
        run_action(client, "move_to_ready", ids)
    assert Job.objects.filter(kind="protocols.bulk_status").count() == 2
    assert not ProtocolStatusHistory.objects.filter(
        to_status=ProtocolStatus.READY
    ).exists()


@pytest.mark.parametrize("role", ["veterinarian", "lab_staff"])
def test_only_admins_start_admin_bulk_jobs(role, login, vet_owner, technician, admin):
    from django.contrib.auth.models import Permission

    user = vet_owner if role == "veterinarian" else technician
    protocol = make_received(vet_owner, technician)
    # Even someone who was (wrongly) let into the admin site cannot start one.
    user.is_staff = True
    user.save()
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_protocol", "change_protocol"])
    )
    response = login(user).post(
        CHANGELIST,
        {"action": "move_to_processing", "_selected_action": [protocol.pk], "index": 0},
    )
    assert response.status_code == 403
    assert not Job.objects.filter(kind="protocols.bulk_status").exists()
