"""Work-order PDFs cached by fingerprint, with a real worker over the real broker."""

from __future__ import annotations

import io
import threading

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse
from pypdf import PdfReader

from patolab.core.files import sha256_hex
from patolab.jobs.models import Job
from patolab.workorders.models import WorkOrderPdf
from patolab.workorders.services import workorder_create
from patolab.workorders.tests.factories import make_catalog, make_protocol

pytestmark = pytest.mark.integration


@pytest.fixture
def work_order(celery_worker, vet_owner):
    make_catalog()
    return workorder_create(
        veterinarian=vet_owner.veterinarian,
        protocols=[make_protocol(vet_owner)],
        tax_condition="responsable_inscripto",
        billing_name="Clínica Ñandú SRL",
        cuit="30-70000000-8",
        created_by=None,
    )


def pdf_text(data: bytes) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)


def get_pdf_when_ready(client, url, wait):
    """Poll like an API client would; return the first 200 response."""
    seen = []

    def ready():
        response = client.get(url)
        seen.append(response.status_code)
        return response if response.status_code == 200 else None

    response = wait(ready, timeout=30, interval=0.1)
    return response, seen


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_pdf_is_generated_by_the_worker_then_served_with_etag_and_304(
    api, vet_owner, work_order, wait
):
    client = api(vet_owner)
    url = f"/api/v1/workorders/{work_order.pk}/pdf"
    first = client.get(url)
    assert first.status_code == 202
    job_id = first.json()["job"]["id"]

    response, seen = get_pdf_when_ready(client, url, wait)
    assert set(seen[:-1]) <= {202}
    data = body(response)
    assert response["Content-Type"] == "application/pdf"
    assert response["ETag"] == f'"{sha256_hex(data)}"'
    text = pdf_text(data)
    assert work_order.number in text
    assert "$ 62.000,00" in text
    # The PDF row is committed just before the job row is marked succeeded.
    wait(lambda: Job.objects.get(pk=job_id).state == "succeeded", timeout=10)

    cached = client.client.get(
        url, headers={**client.headers, "If-None-Match": response["ETag"]}
    )
    assert cached.status_code == 304
    assert Job.objects.filter(kind="workorder.pdf").count() == 1  # served from cache


def test_changed_work_order_never_serves_the_old_pdf(
    api, technician, vet_owner, work_order, wait
):
    client = api(vet_owner)
    url = f"/api/v1/workorders/{work_order.pk}/pdf"
    old, _ = get_pdf_when_ready(client, url, wait)
    old_bytes = body(old)

    patched = api(technician).patch(
        f"/api/v1/workorders/{work_order.pk}",
        {
            "lines": [
                {"code": "HP-01", "quantity": 1},
                {"code": "IHQ-01", "quantity": 1},
            ]
        },
    )
    assert patched.status_code == 200
    assert patched.json()["total"] == "160000.00"

    # The very next request must not return the old bytes, even with its ETag.
    after = client.client.get(
        url, headers={**client.headers, "If-None-Match": old["ETag"]}
    )
    assert after.status_code == 202

    new, _ = get_pdf_when_ready(client, url, wait)
    new_bytes = body(new)
    assert new_bytes != old_bytes
    assert new["ETag"] != old["ETag"]
    assert "$ 160.000,00" in pdf_text(new_bytes)
    assert "$ 62.000,00" not in pdf_text(new_bytes).split("Subtotal")[-1]
    assert WorkOrderPdf.objects.filter(work_order=work_order).count() == 2


def test_concurrent_requests_start_one_job(
    api, vet_owner, work_order, wait, worker_paused
):
    clients = [api(vet_owner) for _ in range(6)]
    barrier = threading.Barrier(len(clients))
    url = f"/api/v1/workorders/{work_order.pk}/pdf"

    def hit(c):
        try:
            barrier.wait()
            c.get(url)
        finally:
            connection.close()

    # Paused: on a loaded machine a late thread could otherwise arrive after
    # the first job already finished, which is a new request, not a race.
    threads = [threading.Thread(target=hit, args=(c,)) for c in clients]
    with worker_paused():
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        # Counted while paused: the six racing requests made one job. (A poll
        # that computed its fingerprint just before that job stored the file
        # may still start a second one after it; that one renders nothing.)
        assert Job.objects.filter(kind="workorder.pdf").count() == 1
    get_pdf_when_ready(clients[0], url, wait)
    assert WorkOrderPdf.objects.filter(work_order=work_order).count() == 1


def test_detail_page_poll_swaps_in_the_download_link(
    login, vet_owner, work_order, wait
):
    client = login(vet_owner)
    html = client.get(
        reverse("workorders:detail", args=[work_order.pk])
    ).content.decode()
    assert "Generando PDF…" in html
    area = reverse("jobs:document-status", args=["workorder", work_order.pk])

    def link_ready():
        fragment = client.get(area, headers={"HX-Request": "true"}).content.decode()
        return fragment if "Descargar PDF" in fragment else None

    fragment = wait(link_ready, timeout=30, interval=0.2)
    assert "hx-trigger" not in fragment  # polling stops once the link is there
    pdf = client.get(reverse("workorders:pdf", args=[work_order.pk]))
    assert pdf.status_code == 200


def test_storage_error_is_retried_with_backoff(
    api, vet_owner, work_order, wait, monkeypatch
):
    from patolab.core import documents

    real_store = documents.store_bytes
    calls = []

    def flaky_store(path, data):
        calls.append(path)
        if len(calls) == 1:
            raise OSError("disco no disponible")
        return real_store(path, data)

    monkeypatch.setattr(documents, "store_bytes", flaky_store)
    client = api(vet_owner)
    url = f"/api/v1/workorders/{work_order.pk}/pdf"
    job_id = client.get(url).json()["job"]["id"]
    get_pdf_when_ready(client, url, wait)
    # The PDF row is committed just before the job row is marked succeeded.
    job = wait(
        lambda: Job.objects.filter(pk=job_id, state="succeeded").first(), timeout=10
    )
    assert job.attempts == 2
    assert len(calls) == 2


def test_a_user_reading_in_english_gets_the_spanish_pdf_from_one_job(
    login, vet_owner, work_order, wait
):
    """PDFs are printed in Spanish whatever the reader's language: the
    fingerprint a request computes must match the one the worker stores, or
    every GET would start another job and never serve the file."""
    client = login(vet_owner)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    url = reverse("workorders:pdf", args=[work_order.pk])

    def served():
        response = client.get(url)
        return response if response.status_code == 200 else None

    response = wait(served, timeout=30, interval=0.2)
    text = pdf_text(body(response))
    assert "Responsable inscripto" in text
    assert Job.objects.filter(kind="workorder.pdf").count() == 1
