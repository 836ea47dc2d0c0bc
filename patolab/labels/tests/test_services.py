"""Label documents: fingerprint, idempotent generation, jobs joined not doubled."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.db import transaction

from patolab.accounts.models import User
from patolab.core.documents import document_build, document_current
from patolab.core.errors import Conflict, NotAllowed, ValidationFailed
from patolab.jobs.models import Job, JobState
from patolab.labels.documents import (
    label_batch_build,
    label_document_data,
    protocol_absolute_url,
)
from patolab.labels.jobs import LABEL_DOCUMENT
from patolab.labels.models import LabelBatch, LabelDocument
from patolab.labels.services import (
    label_get_or_start,
    label_request_generate,
    start_label_batch,
)

from .factories import make_protocol

pytestmark = pytest.mark.django_db


def stored_files(media: Path) -> list[Path]:
    return sorted(p for p in media.rglob("*.pdf"))


def test_label_data_prints_reception_count_date_and_absolute_url(
    vet_owner: User, technician: User, settings: Any
) -> None:
    settings.SITE_URL = "https://lab.example"
    protocol = make_protocol(vet=vet_owner, received_by=technician, containers=3)
    data = label_document_data(protocol)
    assert data.containers == 3
    assert data.received_on.strftime("%d/%m/%Y") == "28/11/2026"
    assert data.url == f"https://lab.example/protocolos/{protocol.pk}/"
    assert protocol_absolute_url(protocol) == data.url


def test_request_generate_inside_a_transaction_sends_the_job_on_commit(
    vet_owner: User,
    technician: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    protocol = make_protocol(vet=vet_owner, received_by=technician)
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        job = label_request_generate(protocol=protocol, user=technician)
        again = label_request_generate(protocol=protocol, user=technician)
    assert again.pk == job.pk
    assert job.kind == "labels.generate"
    assert job.queue == "pdf_generation"
    assert len(callbacks) == 1


def test_generation_is_idempotent_for_the_same_fingerprint(
    vet_owner: User, technician: User, settings: Any
) -> None:
    protocol = make_protocol(vet=vet_owner, received_by=technician, containers=2)
    first = document_build(LABEL_DOCUMENT, protocol)
    files = stored_files(Path(settings.MEDIA_ROOT))
    second = document_build(LABEL_DOCUMENT, protocol)
    assert second.pk == first.pk
    assert second.sha256 == first.sha256
    assert stored_files(Path(settings.MEDIA_ROOT)) == files
    assert len(files) == 1
    assert first.pages == 2


def test_a_change_to_printed_data_makes_the_labels_stale_and_replaces_the_file(
    vet_owner: User,
    technician: User,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    protocol = make_protocol(vet=vet_owner, received_by=technician)
    old = document_build(LABEL_DOCUMENT, protocol)
    protocol.animal_name = "Michi"
    protocol.save()
    protocol.refresh_from_db()
    assert document_current(LABEL_DOCUMENT, protocol) is None
    with django_capture_on_commit_callbacks(execute=True):
        new = document_build(LABEL_DOCUMENT, protocol)
    assert new.sha256 != old.sha256
    assert new.fingerprint != old.fingerprint
    assert [p.name for p in stored_files(Path(settings.MEDIA_ROOT))] == [
        Path(new.file).name
    ]
    assert LabelDocument.objects.count() == 1


def test_get_or_start_serves_current_labels_without_a_job(
    vet_owner: User, technician: User
) -> None:
    protocol = make_protocol(vet=vet_owner, received_by=technician)
    document_build(LABEL_DOCUMENT, protocol)
    protocol.refresh_from_db()
    doc, job = label_get_or_start(protocol=protocol, user=technician)
    assert doc is not None
    assert job is None


def test_get_or_start_joins_the_active_job_when_asked_again(
    vet_owner: User, technician: User, admin: User
) -> None:
    protocol = make_protocol(vet=vet_owner, received_by=technician)
    doc, job = label_get_or_start(protocol=protocol, user=technician)
    doc2, job2 = label_get_or_start(protocol=protocol, user=admin)
    assert doc is None
    assert doc2 is None
    assert job is not None
    assert job2 is not None
    assert job2.pk == job.pk
    assert Job.objects.filter(kind="labels.generate").count() == 1


def test_stale_labels_are_never_returned(vet_owner: User, technician: User) -> None:
    protocol = make_protocol(vet=vet_owner, received_by=technician)
    document_build(LABEL_DOCUMENT, protocol)
    reception = protocol.reception
    reception.containers_received = 5
    reception.save()
    protocol.refresh_from_db()
    doc, job = label_get_or_start(protocol=protocol, user=technician)
    assert doc is None
    assert job is not None


def test_protocol_not_received_has_no_labels(vet_owner: User, technician: User) -> None:
    protocol = make_protocol(vet=vet_owner)
    with pytest.raises(Conflict) as exc:
        label_get_or_start(protocol=protocol, user=technician)
    assert exc.value.code == "protocol_not_received"
    assert "todavía no fue recibido" in exc.value.message
    assert not Job.objects.exists()


@pytest.mark.parametrize("persona", ["vet_owner", "pathologist"])
def test_only_lab_staff_and_admins_get_labels(
    persona: str, request: pytest.FixtureRequest, vet_owner: User, technician: User
) -> None:
    user = request.getfixturevalue(persona)
    protocol = make_protocol(vet=vet_owner, received_by=technician)
    with pytest.raises(NotAllowed):
        label_get_or_start(protocol=protocol, user=user)
    with pytest.raises(NotAllowed):
        start_label_batch(protocol_ids=[protocol.pk], user=user)
    assert not Job.objects.exists()


@pytest.mark.parametrize("ids", [[], ["x"], [True], list(range(1, 502))])
def test_batch_with_bad_ids_is_refused(technician: User, ids: list[Any]) -> None:
    with pytest.raises(ValidationFailed) as exc:
        start_label_batch(protocol_ids=ids, user=technician)
    assert "protocol_ids" in exc.value.errors
    assert not Job.objects.exists()


def test_batch_reports_unreceived_and_missing_protocols_per_item(
    vet_owner: User, technician: User
) -> None:
    a = make_protocol(vet=vet_owner, received_by=technician, containers=2)
    b = make_protocol(vet=vet_owner)
    c = make_protocol(vet=vet_owner, received_by=technician, containers=1)
    job = start_label_batch(protocol_ids=[a.pk, b.pk, c.pk, 999999], user=technician)
    seen: list[tuple[int, int]] = []
    batch, items = label_batch_build(
        job_id=job.pk,
        protocol_ids=job.params["protocol_ids"],
        user_id=technician.pk,
        progress=lambda current, total: seen.append((current, total)),
    )
    assert batch is not None
    assert batch.pages == 3
    assert [item["ok"] for item in items] == [True, False, True, False]
    assert "recibido" in items[1]["error"]
    assert "no existe" in items[3]["error"]
    assert seen[-1] == (4, 4)
    # A re-run of the same job reuses the stored batch.
    again, _items = label_batch_build(
        job_id=job.pk,
        protocol_ids=job.params["protocol_ids"],
        user_id=technician.pk,
        progress=lambda current, total: None,
    )
    assert again is not None
    assert again.pk == batch.pk
    assert LabelBatch.objects.count() == 1


def _run_once(job: Job) -> Any:
    from patolab.jobs.services import job_claim, job_execute

    job.refresh_from_db()
    claimed = job_claim(job_id=str(job.pk), task_id=job.celery_task_id)
    assert claimed is not None
    return job_execute(job=claimed)


def test_storage_error_is_retried_with_backoff_then_labels_are_stored(
    vet_owner: User, technician: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    from patolab.core import documents

    protocol = make_protocol(vet=vet_owner, received_by=technician)
    job = label_request_generate(protocol=protocol, user=technician)
    real_store = documents.store_bytes
    calls: list[str] = []

    def flaky_store(path: str, data: bytes) -> str:
        calls.append(path)
        if len(calls) == 1:
            raise OSError("almacenamiento no disponible")
        return real_store(path, data)

    monkeypatch.setattr(documents, "store_bytes", flaky_store)
    outcome = _run_once(job)
    job.refresh_from_db()
    assert outcome.retry_in is not None
    assert job.state == JobState.QUEUED
    assert "almacenamiento no disponible" in job.error
    assert not LabelDocument.objects.exists()

    _run_once(job)
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED
    assert LabelDocument.objects.filter(protocol=protocol).count() == 1


def test_a_job_that_keeps_failing_shows_the_reason(
    vet_owner: User, technician: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    from patolab.core import documents

    def broken_store(path: str, data: bytes) -> str:
        raise OSError("disco lleno")

    monkeypatch.setattr(documents, "store_bytes", broken_store)
    protocol = make_protocol(vet=vet_owner, received_by=technician)
    job = label_request_generate(protocol=protocol, user=technician)
    for _attempt in range(5):
        _run_once(job)
    job.refresh_from_db()
    assert job.state == JobState.FAILED
    assert "disco lleno" in job.error
    assert job.attempts == 5


def test_worker_warm_up_builds_the_qr_tables_of_protocol_urls_and_stores_nothing(
    settings: Any,
) -> None:
    """Celery runs it in every new pool process (config/celery.py), so the
    first label a worker renders does not build QR tables (~5 ms)."""
    from django.urls import reverse

    from patolab.core.pdf import qr
    from patolab.labels.documents import label_warm
    from patolab.labels.render import qr_layout

    settings.SITE_URL = "https://patolab.fcv.unlp.edu.ar"
    before = stored_files(Path(settings.MEDIA_ROOT))
    qr._template.cache_clear()
    label_warm()
    built = qr._template.cache_info().currsize
    for pk in (7, 4321, 654321):
        path = reverse("protocols:protocol-detail", kwargs={"pk": pk})
        qr_layout(f"{settings.SITE_URL}{path}")
    assert qr._template.cache_info().currsize == built
    assert stored_files(Path(settings.MEDIA_ROOT)) == before
    assert not LabelDocument.objects.exists()
