"""A lost database connection in a bulk job's loop is the job's transient
error (retried), never one item's failure recorded in the result."""

from __future__ import annotations

import pytest
from django.db import OperationalError

from patolab.jobs.models import Job
from patolab.notifications.tests.factories import make_received_protocol
from patolab.reports import resend, services


def lost(**kwargs: object) -> str:
    raise OperationalError("terminating connection due to administrator command")


def test_regeneration_lets_a_lost_connection_through(monkeypatch):
    monkeypatch.setattr(services, "report_regenerate_one", lost)
    job = Job(kind="reports.regenerate", params={"report_ids": [1, 2]})
    with pytest.raises(OperationalError):
        services.report_regenerate_execute(job=job, progress=lambda *a, **k: None)


@pytest.mark.django_db
def test_bulk_notification_lets_a_lost_connection_through(monkeypatch, vet_owner):
    protocol = make_received_protocol(vet_owner)
    monkeypatch.setattr(resend, "_bulk_one", lost)
    with pytest.raises(OperationalError):
        resend.notifications_bulk_run(
            job_id="j1",
            protocol_ids=[protocol.pk],
            email_type="reception",
            progress=lambda *a: None,
        )
