"""Batch reception of a courier box (issue 7, part B), through the real API and
page, a real worker, and the labels PDF read back with its QR codes decoded."""

from __future__ import annotations

import re

import pytest

from patolab.jobs.models import Job, JobState
from patolab.labels.tests.pdfcheck import decode_qr, render_pages
from patolab.protocols.models import Protocol, ProtocolStatus
from patolab.protocols.tests.factories import make_protocol, make_received

pytestmark = pytest.mark.integration


def finished(job_id):
    return Job.objects.filter(
        pk=job_id, state__in=[JobState.SUCCEEDED, JobState.FAILED]
    ).first()


def test_batch_of_20_with_2_bad_numbers_18_in_scan_order_and_prints_one_box_pdf(
    celery_worker, api, login, technician, vet_owner, vet_other, wait
):
    box = [
        make_protocol(vet_owner if i % 2 else vet_other, containers=1)
        for i in range(18)
    ]
    already = make_received(vet_owner, technician)  # bad: already received
    short = make_protocol(vet_owner, containers=3)  # bad: 2 of 3, no note
    scan_order = [*box[:5], already, *box[5:12], short, *box[12:]]
    items = [
        {
            "protocol_id": p.pk,
            "sample_condition": "optimal",
            "containers": 2 if p.pk == short.pk else p.declared_count,
            "discrepancies": "",
        }
        for p in scan_order
    ]

    response = api(technician).post("/api/v1/protocols/receive-batch", {"items": items})
    assert response.status_code == 202, response.content
    job = wait(lambda: finished(response.json()["id"]), timeout=120)
    assert job.state == JobState.SUCCEEDED, job.error
    result = job.result
    assert (result["succeeded"], result["failed"]) == (18, 2)
    by_id = {item["id"]: item for item in result["items"]}
    assert "ya fue recibido" in by_id[already.pk]["error"]
    assert "discrepancia" in by_id[short.pk]["error"]
    assert Protocol.objects.get(pk=short.pk).status == ProtocolStatus.SUBMITTED

    # Numbers are consecutive and follow the scan order.
    numbers = [Protocol.objects.get(pk=p.pk).protocol_number for p in box]
    sequence = [int(n.rsplit("/", 1)[1]) for n in numbers]
    assert sequence == list(range(sequence[0], sequence[0] + 18))
    assert [by_id[p.pk]["protocol_number"] for p in box] == numbers
    assert all(
        Protocol.objects.get(pk=p.pk).history.filter(to_status="received").count() == 1
        for p in box
    )

    # One PDF with the labels of the whole box; each page's QR is one protocol.
    assert result["labels_url"] == result["file_url"]
    pdf = login(technician).get(result["labels_url"])
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    decoded = [
        text
        for page in render_pages(
            b"".join(pdf.streaming_content) if pdf.streaming else pdf.content
        )
        for text in decode_qr(page)
    ]
    assert len(decoded) == 18
    assert {url.rstrip("/").rsplit("/", 1)[-1] for url in decoded} == {
        str(p.pk) for p in box
    }

    # The job page offers that one PDF, and names every protocol's outcome.
    page = login(technician).get(f"/trabajos/{job.pk}/").content.decode()
    assert "Recepción por lote: listo" in page
    assert page.count(result["labels_url"]) == 1
    assert numbers[0] in page
    assert already.protocol_number in page or already.temporary_code in page


def test_batch_page_checks_each_scan_and_confirms_one_job(login, technician, vet_owner):
    first = make_protocol(vet_owner)
    second = make_protocol(vet_owner)
    done = make_received(vet_owner, technician)
    client = login(technician)
    url = "/protocolos/recepcion/lote/"

    page = client.post(url, {"code": first.temporary_code, "action": "add"})
    html = page.content.decode()
    assert first.temporary_code in html
    assert "Confirmar 1 recepción" in html
    # Unknown, duplicate and not pending: said next to the (emptied) field.
    for code, message in [
        ("TMP-HP-99999999-999", "No se encontró"),
        (first.temporary_code, "ya está en la lista"),
        (done.temporary_code, "no se puede recibir"),
    ]:
        html = client.post(url, {"code": code, "action": "add"}).content.decode()
        assert message in html
        tag = re.search(r'<input[^>]*name="code"[^>]*>', html).group(0)
        assert "value=" not in tag.replace('value=""', "")  # emptied for the next scan
        assert "autofocus" in tag
    client.post(url, {"code": second.temporary_code, "action": "add"})
    html = client.post(url, {"remove": str(first.pk)}).content.decode()
    assert "Confirmar 1 recepción" in html
    response = client.post(
        url,
        {
            "action": "confirm",
            f"containers_{second.pk}": "2",
            f"condition_{second.pk}": "acceptable",
            f"discrepancies_{second.pk}": "",
        },
    )
    job = Job.objects.get(kind="protocols.receive_batch")
    assert response.status_code == 302
    assert response["Location"] == f"/trabajos/{job.pk}/"
    assert job.params["items"] == [
        {
            "protocol_id": second.pk,
            "sample_condition": "acceptable",
            "containers": 2,
            "discrepancies": "",
            "notes": "",
        }
    ]


def test_veterinarian_cannot_start_a_batch_reception(api, login, vet_owner):
    protocol = make_protocol(vet_owner)
    items = [
        {"protocol_id": protocol.pk, "sample_condition": "optimal", "containers": 2}
    ]
    assert (
        api(vet_owner)
        .post("/api/v1/protocols/receive-batch", {"items": items})
        .status_code
        == 403
    )
    assert login(vet_owner).get("/protocolos/recepcion/lote/").status_code == 403
    assert not Job.objects.filter(kind="protocols.receive_batch").exists()


def test_batch_with_a_protocol_twice_is_refused_with_a_clear_error(
    api, technician, vet_owner
):
    protocol = make_protocol(vet_owner)
    item = {"protocol_id": protocol.pk, "sample_condition": "optimal", "containers": 2}
    response = api(technician).post(
        "/api/v1/protocols/receive-batch", {"items": [item, item]}
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert "dos veces" in body["errors"]["items"][0]
