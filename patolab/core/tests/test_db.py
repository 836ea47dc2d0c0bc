"""insert_unless_conflict: one INSERT that a unique constraint refuses quietly."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from patolab.core.db import insert_unless_conflict
from patolab.notifications.models import EmailLog

pytestmark = pytest.mark.django_db


def email(key: str, subject: str = "Hola") -> EmailLog:
    return EmailLog(
        kind="received",
        idempotency_key=key,
        recipient="vet@x.example",
        subject=subject,
        body_text="texto",
    )


def test_inserts_sets_the_auto_key_and_refuses_a_duplicate_quietly():
    first = email("k1")
    with CaptureQueriesContext(connection) as queries:
        assert insert_unless_conflict(first) is True
    assert len(queries) == 1  # no savepoint, no SELECT first
    assert first.pk is not None
    assert not first._state.adding
    assert EmailLog.objects.get(pk=first.pk).created_at == first.created_at

    with transaction.atomic():
        duplicate = email("k1", subject="Otro")
        assert insert_unless_conflict(duplicate) is False
        assert duplicate.pk is None
        # The caller's transaction is still usable after the refused INSERT.
        assert EmailLog.objects.filter(idempotency_key="k1").count() == 1
    assert EmailLog.objects.get(idempotency_key="k1").subject == "Hola"


def test_repeated_inserts_of_a_model_store_every_column_of_each_row():
    """The INSERT's SQL is built once per model and reused: each later row
    must still get its own values (JSON, instants, ids), none of the first's."""
    from datetime import timedelta

    from django.utils import timezone

    from patolab.jobs.models import Job

    base = timezone.now()
    jobs = [
        Job(
            kind="reports.finalize",
            target=f"test.target:{i}",
            params={"n": i, "texto": "ñandú"},
            queue="pdf_generation",
            celery_task_id=f"task-{i}",
            queued_at=base + timedelta(seconds=i),
            progress_total=i,
        )
        for i in range(3)
    ]
    for job in jobs:
        assert insert_unless_conflict(job) is True
    for i, job in enumerate(jobs):
        stored = Job.objects.get(pk=job.pk)
        assert stored.target == f"test.target:{i}"
        assert stored.params == {"n": i, "texto": "ñandú"}
        assert stored.celery_task_id == f"task-{i}"
        assert stored.queued_at == base + timedelta(seconds=i)
        assert stored.progress_total == i
        assert stored.created_at == job.created_at
    # The partial unique constraint still refuses a second active job.
    again = Job(
        kind="reports.finalize",
        target="test.target:1",
        queue="pdf_generation",
        celery_task_id="task-again",
        queued_at=base,
    )
    assert insert_unless_conflict(again) is False
    assert Job.objects.filter(target="test.target:1").count() == 1


def test_update_one_returning_claims_one_row_and_reads_it_back_converted():
    """One statement for a conditional claim: the row as the UPDATE left it,
    with every column read as the ORM reads it (JSON, instants); None when
    the condition no longer holds, and then nothing changes."""
    from django.db.models import F

    from patolab.core.db import update_one_returning
    from patolab.notifications.models import EmailStatus

    row = email("claim-me")
    row.attachments = [{"path": "reports/x.pdf", "filename": "informe ñ.pdf"}]
    assert insert_unless_conflict(row) is True

    def claim():
        return update_one_returning(
            EmailLog.objects.filter(pk=row.pk, status=EmailStatus.QUEUED),
            status=EmailStatus.SENDING,
            attempts=F("attempts") + 1,
        )

    claimed = claim()
    assert claimed is not None
    assert claimed.pk == row.pk
    assert claimed.status == EmailStatus.SENDING
    assert claimed.attempts == 1
    assert claimed.attachments == row.attachments
    assert claimed.created_at == row.created_at
    assert claimed.subject == "Hola"
    assert not claimed._state.adding
    assert claim() is None
    assert EmailLog.objects.get(pk=row.pk).attempts == 1
