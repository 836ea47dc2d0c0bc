"""The submission slip end to end with a real worker over the real broker:
submitting starts its job, the veterinarian downloads the PDF from the protocol
page's link, its QR codes and barcode decode (zxing-cpp, 200 dpi rendering) to
the temporary code, and the reception lookup accepts that code as scanned."""

from __future__ import annotations

from typing import Any

import pytest
import zxingcpp
from django.db import transaction

from patolab.jobs.models import Job
from patolab.labels.tests.pdfcheck import pdf_pages, render_pages
from patolab.protocols.jobs import SLIP_GENERATE
from patolab.protocols.models import Protocol, SubmissionSlip
from patolab.protocols.tests.factories import make_protocol

pytestmark = pytest.mark.integration


def body(response: Any) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return bytes(response.content)


def decoded(pdf: bytes) -> list[tuple[str, str]]:
    found = []
    for image in render_pages(pdf, scale=200 / 72):
        found += [(r.format.name, r.text) for r in zxingcpp.read_barcodes(image)]
    return found


def test_slip_scans_to_the_temporary_code_reception_accepts(
    celery_worker, login, vet_owner, technician, wait
):
    with transaction.atomic():
        protocol = make_protocol(vet_owner, notify=True, containers=4)
    # Submission started the slip's job (after commit); the worker makes it.
    assert Job.objects.filter(kind=SLIP_GENERATE).count() == 1
    wait(lambda: SubmissionSlip.objects.filter(protocol=protocol).exists(), timeout=60)

    vet = login(vet_owner)
    page = vet.get(f"/protocolos/{protocol.pk}/").content.decode()
    slip_url = f"/protocolos/{protocol.pk}/comprobante/"
    assert f'href="{slip_url}"' in page
    response = vet.get(slip_url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    pdf = body(response)
    text = pdf_pages(pdf)[0][2]
    assert protocol.temporary_code in text
    assert "Frasco 4 de 4" in text

    codes = decoded(pdf)
    # The big QR, the Code 128 barcode and one QR per container's tag.
    assert codes.count(("QRCode", protocol.temporary_code)) == 1 + 4
    assert ("Code128", protocol.temporary_code) in codes
    assert {text for _, text in codes} == {protocol.temporary_code}

    # What the scanner types is accepted by the reception lookup.
    staff = login(technician)
    answer = staff.get("/protocolos/recepcion/", {"code": protocol.temporary_code})
    assert answer.status_code == 302
    assert answer["Location"] == f"/protocolos/{protocol.pk}/recibir/"
    # A second download is the stored file (no new job).
    assert body(vet.get(slip_url)) == pdf
    assert Job.objects.filter(kind=SLIP_GENERATE).count() == 1


def test_slip_is_refused_for_a_draft_and_after_reception(login, vet_owner, db):
    draft = Protocol.objects.create(
        veterinarian=vet_owner.veterinarian,
        analysis_type="histopathology",
        status="draft",
        animal_name="Luna",
    )
    response = login(vet_owner).get(f"/protocolos/{draft.pk}/comprobante/")
    assert response.status_code == 409
    assert "después de enviar el protocolo" in response.content.decode()
    assert not Job.objects.exists()
