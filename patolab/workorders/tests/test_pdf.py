from __future__ import annotations

import dataclasses
import io
from decimal import Decimal

import pytest
from pypdf import PdfReader
from reportlab.lib.pagesizes import A4

from patolab.core.documents import (
    document_build,
    document_current,
    document_fingerprint,
)
from patolab.core.files import sha256_hex

from ..documents import workorder_document_data
from ..jobs import WORKORDER_DOCUMENT
from ..models import TaxCondition, WorkOrderPdf
from ..pdf import (
    RENDERER_VERSION,
    PdfLine,
    PdfProtocol,
    WorkOrderDocument,
    render_work_order,
)
from ..services import LineInput, workorder_issue, workorder_update
from .factories import make_protocol

D = Decimal


def fingerprint(document: WorkOrderDocument) -> str:
    return document_fingerprint(document, renderer=RENDERER_VERSION)


def sample(**changes) -> WorkOrderDocument:
    doc = WorkOrderDocument(
        lab_name="Laboratorio de Patología Veterinaria",
        number="OT-2026-0042",
        status="Borrador",
        date="15/03/2026",
        veterinarian="María Eugenia López",
        veterinarian_license="MP 3876",
        veterinarian_contact="mel@vet.example · 221 555-0101 · City Bell",
        billing_name="Clínica Veterinaria Ñandú SRL",
        cuit="30-70000000-8",
        tax_condition="Responsable inscripto",
        tax_discriminated=True,
        protocols=(
            PdfProtocol("HP 26/001", "Histopatología", "Toby · Canino", "14/03/2026"),
        ),
        lines=(
            PdfLine(
                "HP-01",
                "Histopatología (1 frasco) · HP 26/001",
                1,
                D("62000.00"),
                D("0"),
                D("62000.00"),
            ),
            PdfLine(
                "IHQ-01",
                "Inmunohistoquímica (por marcador)",
                2,
                D("98000.00"),
                D("10"),
                D("176400.00"),
            ),
        ),
        subtotal=D("258000.00"),
        discount_total=D("19600.00"),
        net=D("197024.79"),
        tax_total=D("41375.21"),
        total=D("238400.00"),
        advance_payment=D("50000.00"),
        balance=D("188400.00"),
        notes="Pago por transferencia. Atención: señá el envío.",
    )
    return dataclasses.replace(doc, **changes)


def text_of(data: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(io.BytesIO(data))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


def test_rendered_pdf_is_a4_with_number_totals_and_spanish_text():
    reader, text = text_of(render_work_order(sample()))
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (
        round(A4[0]),
        round(A4[1]),
    )
    assert "OT-2026-0042" in text
    assert "$ 238.400,00" in text  # total, Argentine format
    assert "$ 188.400,00" in text  # balance after the advance payment
    assert "IVA 21 %" in text
    assert "$ 41.375,21" in text
    assert "Clínica Veterinaria Ñandú SRL" in text
    assert "María Eugenia López" in text
    assert "30-70000000-8" in text
    assert "HP 26/001" in text
    assert "señá" in text


def test_iva_included_conditions_say_so_on_the_pdf():
    _, text = text_of(
        render_work_order(
            sample(tax_discriminated=False, tax_condition="Monotributista")
        )
    )
    assert "Total (IVA incluido)" in text
    assert "IVA contenido" in text
    assert "IVA 21 %" not in text


def test_same_data_gives_the_same_bytes():
    assert sha256_hex(render_work_order(sample())) == sha256_hex(
        render_work_order(sample())
    )


@pytest.mark.parametrize(
    "change",
    [
        {"number": "OT-2026-0043"},
        {"status": "Emitida"},
        {"date": "16/03/2026"},
        {"veterinarian": "Otro"},
        {"billing_name": "Otra SRL"},
        {"cuit": "20-12345678-6"},
        {"tax_condition": "Exento"},
        {"total": D("238400.01")},
        {"advance_payment": D("0.00")},
        {"notes": ""},
        {"lab_name": "Otro laboratorio"},
        {"protocols": ()},
        {"lines": ()},
    ],
)
def test_fingerprint_changes_with_any_printed_field(change):
    assert fingerprint(sample(**change)) != fingerprint(sample())


def test_fingerprint_is_stable_for_the_same_data():
    assert fingerprint(sample()) == fingerprint(sample())


def test_build_stores_once_per_fingerprint_and_edits_make_it_stale(vet_owner, catalog):
    from ..services import workorder_create

    p = make_protocol(vet_owner)
    wo = workorder_create(
        veterinarian=vet_owner.veterinarian,
        protocols=[p],
        tax_condition=TaxCondition.CONSUMIDOR_FINAL,
        created_by=None,
    )
    assert document_current(WORKORDER_DOCUMENT, wo) is None
    pdf = document_build(WORKORDER_DOCUMENT, wo)
    assert document_build(WORKORDER_DOCUMENT, wo).pk == pdf.pk  # idempotent
    assert document_current(WORKORDER_DOCUMENT, wo).pk == pdf.pk
    assert pdf.file.startswith("workorders/ot-")
    assert " " not in pdf.file
    assert "/" not in pdf.file.removeprefix("workorders/")

    before = WORKORDER_DOCUMENT.fingerprint(wo)
    workorder_update(work_order=wo, lines=[LineInput(code="HP-01", quantity=2)])
    assert WORKORDER_DOCUMENT.fingerprint(wo) != before
    assert document_current(WORKORDER_DOCUMENT, wo) is None  # stale: never served

    new = document_build(WORKORDER_DOCUMENT, wo)
    assert new.sha256 != pdf.sha256
    assert WorkOrderPdf.objects.filter(work_order=wo).count() == 2
    _, text = text_of(open_pdf(new))
    assert "$ 124.000,00" in text

    wo = workorder_issue(work_order=wo)
    assert document_current(WORKORDER_DOCUMENT, wo) is None  # status is printed
    assert workorder_document_data(wo).status == "Emitida"


def open_pdf(pdf: WorkOrderPdf) -> bytes:
    from django.core.files.storage import default_storage

    with default_storage.open(pdf.file, "rb") as handle:
        return handle.read()


def test_work_order_pdf_is_small_with_its_fonts_embedded():
    data = render_work_order(sample())
    assert len(data) <= 22 * 1024
    assert data.count(b"/FontFile2") == 2
