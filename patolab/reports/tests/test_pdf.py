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


def test_same_content_gives_the_same_bytes_in_another_process():
    """A worker process rendering the same report later (a regeneration rerun
    after a crash) makes the same bytes: nothing in the file (embedded font
    tables included) depends on when or where the process started."""
    import hashlib

    from patolab.core.tests.processes import sha256_in_fresh_process

    here = hashlib.sha256(render_report(sample())).hexdigest()
    other = sha256_in_fresh_process(
        "import time; time.sleep(1.1)\n"
        "from patolab.reports.tests.test_pdf import render_report, sample",
        "render_report(sample())",
    )
    assert other == here


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


# ------------------------------------------------ letterhead, signer, layout
LOGO = "patolab/core/pdf/lab-logo.png"


def _text_positions(page: object) -> list[tuple[str, float, float]]:
    """(text, x, y) of every text run drawn on `page` (PDF points)."""
    found: list[tuple[str, float, float]] = []

    def visit(text: str, cm: list[float], tm: list[float], *_: object) -> None:
        if text.strip():
            found.append((text.strip(), tm[4] * cm[0] + cm[4], tm[5] * cm[3] + cm[5]))

    page.extract_text(visitor_text=visit)  # type: ignore[attr-defined]
    return found


def test_letterhead_shows_the_labs_address_phone_and_logo_on_every_page():
    data = render_report(
        sample(
            lab_address="Calle 60 y 118, La Plata",
            lab_phone="+54 221 555-0100",
            lab_logo_path=LOGO,
        )
    )
    reader = PdfReader(io.BytesIO(data))
    for page in reader.pages:
        text = page.extract_text()
        assert "Calle 60 y 118, La Plata · +54 221 555-0100" in text
        [logo] = page.images
        assert logo.image.size == (128, 128)
        # The logo is the bundled mark: brand blue outside, white centre.
        assert logo.image.convert("RGB").getpixel((64, 64)) == (255, 255, 255)
        assert logo.image.convert("RGB").getpixel((6, 64)) == (29, 92, 122)


def test_no_logo_when_the_setting_is_empty_or_the_file_is_missing(tmp_path):
    for path in ("", str(tmp_path / "missing.png")):
        page = PdfReader(io.BytesIO(render_report(sample(lab_logo_path=path)))).pages[0]
        assert len(page.images) == 0


def test_signing_pathologist_license_is_printed_under_the_name():
    data = render_report(sample(histopathologist_license="MV 4567"))
    last = PdfReader(io.BytesIO(data)).pages[-1]
    runs = _text_positions(last)
    [(_, _, name_y)] = [r for r in runs if r[0] == "Paula Patóloga"]
    [(_, _, lic_y)] = [r for r in runs if r[0] == "Matrícula MV 4567"]
    assert 0 < name_y - lic_y < 20  # the next line down
    assert "Paula Patóloga\nMatrícula MV 4567\nHistopatólogo/a" in last.extract_text()


def test_cytology_report_has_the_cytology_title_and_no_empty_macroscopic_section():
    data = render_report(
        sample(analysis_type="Citología", is_cytology=True, macroscopic="")
    )
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    assert "Informe citológico" in text
    assert "Descripción citológica" in text
    assert "histopatológico" not in text
    assert "Descripción macroscópica" not in text


def test_histopathology_report_title():
    text = PdfReader(io.BytesIO(render_report(sample()))).pages[0].extract_text()
    assert "Informe histopatológico" in text


def test_a_long_paragraph_starts_on_page_one_and_fills_it():
    # One microscopic paragraph of ~4,700 characters (more than a page).
    data = render_report(
        sample(clinical_history="", macroscopic="Fragmento.", microscopic=PARAGRAPH * 4)
    )
    reader = PdfReader(io.BytesIO(data))
    first = reader.pages[0]
    assert "Descripción microscópica" in first.extract_text()
    body = [r for r in _text_positions(first) if "proliferación" in r[0]]
    # The paragraph runs down to the footer (within 40 mm of the page bottom)
    # and goes on on page 2: no third of page 1 is left empty.
    assert min(y for _, _, y in body) < 40 * 72 / 25.4
    assert "edema y eosinófilos" in reader.pages[1].extract_text()


def test_report_pdf_is_small_with_fonts_and_logo_embedded():
    data = render_report(sample(lab_logo_path=LOGO))
    assert len(data) <= 28 * 1024
