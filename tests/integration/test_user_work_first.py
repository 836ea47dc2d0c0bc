"""User-facing work never queues behind batch work (issue 7, part C).

With 300 label batches queued on `bulk`, a reception's single label and a report
finalization (user-facing queue) finish while the batches are still waiting, on
Redis and on the embedded broker, with the worker layout `make run` starts
(Procfile: a `user` worker on pdf_generation,default and a `bulk` worker).
"""

from __future__ import annotations

import pytest
from django.db import transaction

from config.celery import app
from patolab.jobs.models import Job, JobState
from patolab.labels.services import start_label_batch
from patolab.protocols.models import Protocol
from patolab.protocols.services import protocol_receive
from patolab.protocols.tests.factories import make_protocol
from patolab.reports.services import report_create, report_request_finalize

pytestmark = pytest.mark.integration


@pytest.fixture(params=["redis", "embedded"])
def broker(request, settings, tmp_path):
    """The broker of this run; the test process publishes to it too."""
    if request.param == "redis":
        yield settings.CELERY_BROKER_URL
        return
    url = f"sqla+sqlite:///{tmp_path / 'embedded-broker.sqlite3'}"
    keys = ("broker_url", "broker_read_url", "broker_write_url")
    saved = {key: app.conf[key] for key in keys}
    app.conf.update(dict.fromkeys(keys, url))
    app._pool = None  # connections are pooled per broker URL
    app.amqp._producer_pool = None
    try:
        yield url
    finally:
        app.conf.update(saved)
        app._pool = None
        app.amqp._producer_pool = None


def test_a_user_label_and_a_finalization_finish_before_300_queued_batches(
    broker, worker_process, purge_broker, vet_owner, technician, pathologist, wait
):
    worker_process("user", queues="pdf_generation,default", concurrency=2,
                   CELERY_BROKER_URL=broker)  # fmt: skip
    worker_process("bulk", queues="bulk", concurrency=1, CELERY_BROKER_URL=broker)
    stock = protocol_receive(
        protocol=make_protocol(vet_owner), received_by=technician,
        sample_condition="optimal", containers=2, notify=False, render_labels=True,
    )  # fmt: skip
    ready = protocol_receive(
        protocol=make_protocol(vet_owner), received_by=technician,
        sample_condition="optimal", containers=2, notify=False, render_labels=True,
    )  # fmt: skip
    Protocol.objects.filter(pk=ready.pk).update(status="ready")
    draft = report_create(
        protocol=Protocol.objects.get(pk=ready.pk), histopathologist=pathologist,
        macroscopic="Nódulo.", microscopic="Mastocitoma grado II.", diagnosis="Mastocitoma.",
    )  # fmt: skip
    with transaction.atomic():
        for _ in range(300):
            start_label_batch(protocol_ids=[stock.pk], user=technician)

    # The user's work arrives after the whole backlog was queued.
    with transaction.atomic():
        fresh = protocol_receive(  # queues this protocol's labels (user-facing)
            protocol=make_protocol(vet_owner), received_by=technician,
            sample_condition="optimal", containers=2, notify=False,
        )  # fmt: skip
        finalize = report_request_finalize(user=pathologist, report=draft)
    label = Job.objects.get(
        kind="labels.generate", target=f"protocols.protocol:{fresh.pk}"
    )

    def done(job):
        job.refresh_from_db()
        return job.state in (JobState.SUCCEEDED, JobState.FAILED)

    wait(lambda: done(label) and done(finalize), timeout=120, interval=0.1)
    assert label.state == finalize.state == JobState.SUCCEEDED, (
        label.error,
        finalize.error,
    )
    waiting = Job.objects.filter(kind="labels.batch", state=JobState.QUEUED).count()
    assert waiting > 0, "the user's jobs waited for the whole batch backlog"
