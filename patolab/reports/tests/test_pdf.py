"""The report renderer read back: pypdf for text and page size, pypdfium2 +
zxing-cpp for the QR code."""

from __future__ import annotations

import dataclasses
import io
from datetime import date

import pypdfium2 as pdfium
import pytest
import zxingcpp
from pypdf import PdfReader

from patolab.reports.pdf import ReportPdfData, render_report

URL = "https://patolab.example/verify/3f0c2a8e-5b7d-4f61-9a43-2e8c1d0b7a55/"
PARAGRAPH = (
    "Se observa una proliferación neoplásica de células redondas dispuestas en "
    "cordones y láminas, con citoplasma granular y núcleos centrales; índice "
    "mitótico bajo (1 mitosis en 10 campos de gran aumento), edema y eosinófilos. "
) * 5


def sample(**overrides: object) -> ReportPdfData:
    data = ReportPdfData(
        lab_name="Laboratorio de Patología Veterinaria",
        protocol_number="HP 26/001",
        analysis_type="Histopatología",
        version=1,
        report_date=date(2026, 11, 28),
        verification_url=URL,
        verification_id="3f0c2a8e-5b7d-4f61-9a43-2e8c1d0b7a55",
        species="Canino",
        breed="Ovejero alemán",
        sex="Macho",
        age="7 años",
        animal_name="Ñandú",
        owner_name="José Pérez",
        sampling_date=date(2026, 11, 20),
        received_date=date(2026, 11, 21),
        material="Nódulo cutáneo, miembro anterior",
        clinical_history="Nódulo de crecimiento rápido.",
        presumptive_diagnosis="Mastocitoma",
        veterinarian_name="Ana Owner",
        veterinarian_license="MP 1234",
        veterinarian_locality="La Plata",
        macroscopic=PARAGRAPH,
        microscopic="\n\n".join([PARAGRAPH] * 4),
        diagnosis="Mastocitoma cutáneo grado II; pequeño ñandú, pingüino, 3 °C.",
        comments=PARAGRAPH,
        histopathologist_name="Paula Patóloga",
    )
    return dataclasses.replace(data, **overrides)


@pytest.fixture(scope="module")
def pdf_bytes() -> bytes:
    return render_report(sample())


def test_report_is_a4_with_several_pages(pdf_bytes):
    reader = PdfReader(io.BytesIO(pdf_bytes))
    assert len(reader.pages) == 3
    for page in reader.pages:
        assert round(float(page.mediabox.width)) == 595
        assert round(float(page.mediabox.height)) == 842


def test_diagnosis_and_spanish_accents_are_extractable(pdf_bytes):
    reader = PdfReader(io.BytesIO(pdf_bytes))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Mastocitoma cutáneo grado II" in text
    assert "ñandú, pingüino, 3 °C" in text
    assert "Histopatólogo/a" in text
    assert "Paula Patóloga" in text
    assert "HP 26/001" in text


def test_every_page_says_pagina_n_de_m(pdf_bytes):
    reader = PdfReader(io.BytesIO(pdf_bytes))
    total = len(reader.pages)
    for number, page in enumerate(reader.pages, start=1):
        assert f"Página {number} de {total}" in page.extract_text()


def test_fonts_are_embedded_truetype(pdf_bytes):
    reader = PdfReader(io.BytesIO(pdf_bytes))
    fonts = reader.pages[0]["/Resources"]["/Font"]
    for ref in fonts.values():
        font = ref.get_object()
        descriptor = (
            font.get("/FontDescriptor")
            or font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
        )
        assert "/FontFile2" in descriptor.get_object()


def test_same_content_gives_the_same_bytes():
    assert render_report(sample()) == render_report(sample())


def test_different_content_gives_different_bytes():
    assert render_report(sample()) != render_report(sample(diagnosis="Lipoma."))


def test_qr_on_first_page_decodes_to_the_verification_url(pdf_bytes):
    document = pdfium.PdfDocument(pdf_bytes)
    try:
        image = document[0].render(scale=200 / 72).to_pil()
    finally:
        document.close()
    results = zxingcpp.read_barcodes(image)
    assert [r.text for r in results if r.format == zxingcpp.BarcodeFormat.QRCode] == [
        URL
    ]


def test_user_text_with_markup_characters_is_printed_literally():
    data = render_report(sample(diagnosis="Carcinoma <b>in situ</b> & displasia"))
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    assert "Carcinoma <b>in situ</b> & displasia" in text


def test_amendment_notice_is_printed():
    data = render_report(
        sample(version=2, supersedes_version=1, amendment_reason="Error de tipeo")
    )
    text = PdfReader(io.BytesIO(data)).pages[0].extract_text()
    assert "reemplaza a la versión 1" in text
    assert "Error de tipeo" in text
