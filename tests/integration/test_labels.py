"""Labels end to end with a real worker over the real broker: pre-generated on
reception, served with ETag/304, batch sheets with per-item errors. Every QR is
decoded from a 203 dpi rendering of the served PDF."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client

from patolab.accounts.models import User
from patolab.jobs.models import Job, JobState
from patolab.labels.models import LabelDocument
from patolab.labels.services import label_request_generate
from patolab.labels.tests.factories import make_protocol
from patolab.labels.tests.pdfcheck import decode_qr, pdf_pages, render_pages

pytestmark = pytest.mark.integration
Api = Callable[[User | None], Any]


def url_of(protocol_pk: int) -> str:
    return f"{settings.SITE_URL}/protocolos/{protocol_pk}/"


def finished(job_pk: Any) -> Callable[[], Job | None]:
    def check() -> Job | None:
        job = Job.objects.get(pk=job_pk)
        return job if job.state not in (JobState.QUEUED, JobState.RUNNING) else None

    return check


def body(response: Any) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def test_reception_pregenerates_labels_served_with_etag_and_304(
    celery_worker: Any, api: Api, vet_owner: User, technician: User, wait: Any
) -> None:
    protocol = make_protocol(vet=vet_owner, received_by=technician, containers=3)
    with transaction.atomic():
        job = label_request_generate(protocol=protocol, user=technician)
    done = wait(finished(job.pk), timeout=30)
    assert done.state == JobState.SUCCEEDED, done.error
    assert done.result["file_url"] == f"/etiquetas/protocolo/{protocol.pk}/"

    client = api(technician)
    response = client.get(f"/api/v1/protocols/{protocol.pk}/label.pdf")
    assert response.status_code == 200
    pdf = body(response)
    doc = LabelDocument.objects.get(protocol=protocol)
    assert response["ETag"] == f'"{doc.sha256}"'
    pages = pdf_pages(pdf)
    assert len(pages) == 3
    assert all(protocol.protocol_number in text for _w, _h, text in pages)
    assert [decode_qr(image) for image in render_pages(pdf)] == [
        [url_of(protocol.pk)]
    ] * 3

    client.headers["If-None-Match"] = response["ETag"]
    assert client.get(f"/api/v1/protocols/{protocol.pk}/label.pdf").status_code == 304
    # Asking for current labels never starts another job.
    assert Job.objects.filter(kind="labels.generate").count() == 1


def test_first_get_answers_202_joins_the_same_job_then_serves_the_pdf(
    celery_worker: Any, api: Api, vet_owner: User, technician: User, wait: Any
) -> None:
    protocol = make_protocol(vet=vet_owner, received_by=technician, containers=1)
    client = api(technician)
    path = f"/api/v1/protocols/{protocol.pk}/label.pdf"
    first = client.get(path)
    assert first.status_code == 202
    job_id = first.json()["job"]["id"]
    again = client.get(path)
    if again.status_code == 202:  # still generating: it must be the same job
        assert again.json()["job"]["id"] == job_id
    wait(finished(job_id), timeout=30)
    served = client.get(path)
    assert served.status_code == 200
    assert Job.objects.filter(kind="labels.generate").count() == 1
    assert decode_qr(render_pages(body(served))[0]) == [url_of(protocol.pk)]


def test_batch_over_three_protocols_gives_one_pdf_and_per_item_errors(
    celery_worker: Any, api: Api, vet_owner: User, technician: User, wait: Any
) -> None:
    a = make_protocol(vet=vet_owner, received_by=technician, containers=2)
    pending = make_protocol(vet=vet_owner)
    c = make_protocol(vet=vet_owner, received_by=technician, containers=1)
    client = api(technician)
    response = client.post("/api/v1/labels", {"protocol_ids": [a.pk, pending.pk, c.pk]})
    assert response.status_code == 202
    job = wait(finished(response.json()["id"]), timeout=30)
    assert job.state == JobState.SUCCEEDED, job.error
    assert (job.progress_current, job.progress_total) == (3, 3)
    result = client.get(f"/api/v1/jobs/{job.pk}").json()["result"]
    assert result["succeeded"] == 2
    assert result["failed"] == 1
    failed = [item for item in result["items"] if not item["ok"]]
    assert [item["id"] for item in failed] == [pending.pk]
    assert "recibido" in failed[0]["error"]

    # Files are served by a session-authenticated, permission-checked view.
    browser = Client()
    browser.force_login(technician)
    download = browser.get(result["file_url"])
    assert download.status_code == 200
    pdf = body(download)
    assert len(pdf_pages(pdf)) == 3
    assert [decode_qr(image) for image in render_pages(pdf)] == [
        [url_of(a.pk)],
        [url_of(a.pk)],
        [url_of(c.pk)],
    ]


def test_vet_gets_403_and_no_job(
    celery_worker: Any, api: Api, vet_owner: User, technician: User
) -> None:
    protocol = make_protocol(vet=vet_owner, received_by=technician)
    response = api(vet_owner).get(f"/api/v1/protocols/{protocol.pk}/label.pdf")
    assert response.status_code == 403
    assert not Job.objects.exists()
