"""Issue 10, "Veterinarians: a life cycle and a phone", in headless Chromium at
desktop (1366x900) and phone (390x844) size, as a veterinarian would check it:

- a form shows every problem in one round (summary on top, focus on the first
  errored input, red border on each errored input, aria-describedby to the error);
- a draft is saved incomplete, completed later and submitted;
- the submission slip is printed from the protocol page; its QR (decoded with
  zxing-cpp) is the temporary code, which the reception scanner field accepts;
- a protocol is cancelled before reception and leaves reception's pending list;
- search ignores accents and case ("nandu" finds "Ñandú");
- no page scrolls sideways at 390 px and axe finds nothing serious or critical.

Screenshots of every step go to test-output/e2e/vet-*.png.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import zxingcpp

from patolab.labels.tests.pdfcheck import render_pages
from patolab.protocols.models import Protocol, ProtocolStatus
from patolab.protocols.tests.factories import make_protocol
from tests.e2e.support import (  # noqa: F401  (sized_page is the `page` fixture)
    assert_accessible,
    body_text,
    log_in,
    overflow,
    shot,
    sized_page,
)

pytestmark = pytest.mark.e2e
RED = "rgb(180, 35, 24)"  # --bad


def check_page(page, name: str) -> None:
    """What every veterinarian page must pass, at the current size."""
    shot(page, f"vet-{name}")
    assert overflow(page) == 0, f"{name}: scrolls sideways"
    assert_accessible(page)


def errored_inputs(page) -> list[dict]:
    return page.eval_on_selector_all(
        "main [aria-invalid=true]",
        """els => els.map(el => ({
            name: el.name,
            border: getComputedStyle(el).borderTopColor,
            describedby: el.getAttribute('aria-describedby') || '',
            errorText: (document.getElementById(
                (el.getAttribute('aria-describedby') || '').split(' ').pop()
            ) || {}).textContent || '',
        }))""",
    )


def test_errors_in_one_round_then_draft_then_submit(page, live_server, vet_owner):
    base = live_server.url
    log_in(page, base, vet_owner.username)
    page.goto(f"{base}/protocolos/nuevo/histopatologia/")
    # A future date and zero containers, with the required fields left empty.
    future = (date.today() + timedelta(days=30)).isoformat()
    page.fill("input[name=sampling_date]", future)
    page.fill("input[name=containers]", "0")
    page.get_by_role("button", name="Enviar protocolo").click()
    page.wait_for_load_state()

    summary = page.locator(".error-summary")
    assert "Hay 5 problemas" in summary.inner_text()
    for message in (
        "Especie: Este campo es obligatorio.",
        "La fecha de toma de muestra no puede ser futura.",
        "Debe enviar al menos un frasco.",
        "Material remitido (tejido/órgano): Este campo es obligatorio.",
    ):
        assert message in summary.inner_text()
    # The focus is on the first errored input: the scanner-free keyboard path.
    assert page.evaluate("document.activeElement.name") == "species"
    inputs = errored_inputs(page)
    assert {i["name"] for i in inputs} == {
        "species",
        "animal_name",
        "sampling_date",
        "containers",
        "material_submitted",
    }
    for item in inputs:
        assert item["border"] == RED, item
        assert item["describedby"].endswith(f"id_{item['name']}_error"), item
        assert item["errorText"].strip(), item
    check_page(page, "1-errors-in-one-round")

    # Saved as an incomplete draft: not a dead end.
    page.fill("input[name=animal_name]", "Ñandú")
    page.fill("input[name=sampling_date]", "")
    page.fill("input[name=containers]", "2")
    page.get_by_role("button", name="Guardar borrador").click()
    page.wait_for_url(re.compile(r".*/protocolos/\d+/$"))
    protocol = Protocol.objects.get(animal_name="Ñandú")
    assert protocol.status == ProtocolStatus.DRAFT
    assert "Borrador guardado" in body_text(page)
    check_page(page, "2-draft")

    page.get_by_role("link", name="Completar y enviar").click()
    page.wait_for_url(re.compile(r".*/editar/$"))
    assert page.input_value("input[name=animal_name]") == "Ñandú"
    page.select_option("select[name=species]", "Aviar")
    page.fill("input[name=sampling_date]", date.today().isoformat())
    page.fill("input[name=material_submitted]", "Biopsia de piel")
    check_page(page, "3-edit-draft")
    page.get_by_role("button", name="Enviar protocolo").click()
    page.wait_for_url(re.compile(rf".*/protocolos/{protocol.pk}/$"))
    protocol.refresh_from_db()
    assert protocol.status == ProtocolStatus.SUBMITTED
    assert protocol.temporary_code in body_text(page)
    check_page(page, "4-submitted")


def test_slip_qr_is_accepted_by_the_reception_scanner(
    page, live_server, celery_worker, vet_owner, technician, wait
):
    base = live_server.url
    protocol = make_protocol(vet_owner, notify=True, containers=2)
    log_in(page, base, vet_owner.username)
    page.goto(f"{base}/protocolos/{protocol.pk}/")
    link = page.get_by_role("link", name="Imprimir comprobante (PDF)")
    slip_url = base + link.get_attribute("href")
    # The slip's job started at submission; the worker stores it.
    response = wait(
        lambda: (
            r
            if (r := page.request.get(slip_url)).headers["content-type"]
            == "application/pdf"
            else None
        ),
        timeout=60,
    )
    pdf = response.body()
    codes = [
        r.text
        for image in render_pages(pdf, scale=200 / 72)
        for r in zxingcpp.read_barcodes(image)
        if r.format == zxingcpp.BarcodeFormat.QRCode
    ]
    assert len(codes) == 1 + 2  # the big one and one per container
    assert set(codes) == {protocol.temporary_code}
    check_page(page, "5-protocol-with-slip-link")

    # Reception scans it: the scanner types the decoded text and presses Enter.
    log_in(page, base, technician.username)
    page.goto(f"{base}/protocolos/recepcion/")
    page.fill("input[name=code]", codes[0])
    page.press("input[name=code]", "Enter")
    page.wait_for_url(re.compile(rf".*/protocolos/{protocol.pk}/recibir/$"))


def test_cancel_before_reception_and_accent_insensitive_search(
    page, live_server, vet_owner, technician
):
    base = live_server.url
    nandu = make_protocol(vet_owner, animal_name="Ñandú", species="Aviar")
    make_protocol(vet_owner, animal_name="Luna")
    log_in(page, base, vet_owner.username)

    page.goto(f"{base}/protocolos/")
    check_page(page, "6-list")
    page.fill("input[name=q]", "NANDU")
    page.get_by_role("button", name="Filtrar").click()
    page.wait_for_load_state()
    rows = page.locator("table.protocol-list tbody tr")
    assert rows.count() == 1
    assert "Ñandú" in rows.first.inner_text()
    # On a card, status and the PDF link come first.
    if page.size_name == "phone":
        first_cells = rows.first.evaluate(
            """tr => [...tr.children]
                 .sort((a, b) => a.getBoundingClientRect().top - b.getBoundingClientRect().top)
                 .slice(0, 2).map(td => td.innerText.trim())"""
        )
        assert "Enviado" in first_cells[0] or "Enviado" in first_cells[1]
        assert any("Comprobante (PDF)" in cell for cell in first_cells)
    check_page(page, "7-search")

    page.goto(f"{base}/protocolos/{nandu.pk}/")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Cancelar envío").click()
    page.wait_for_load_state()
    nandu.refresh_from_db()
    assert nandu.status == ProtocolStatus.CANCELLED
    assert "cancelado" in body_text(page)
    check_page(page, "8-cancelled")

    log_in(page, base, technician.username)
    page.goto(f"{base}/protocolos/recepcion/pendientes/")
    pending = body_text(page)
    assert nandu.temporary_code not in pending
    assert "Luna" in pending


def test_every_veterinarian_page_fits_a_phone(page, live_server, vet_owner):
    base = live_server.url
    protocol = make_protocol(
        vet_owner,
        animal_name="Nombre de animal larguísimo sin espacios" * 2,
        clinical_history="x" * 300,
    )
    log_in(page, base, vet_owner.username)
    for path in (
        "/",
        "/protocolos/",
        "/protocolos/nuevo/histopatologia/",
        "/protocolos/nuevo/citologia/",
        f"/protocolos/{protocol.pk}/",
        "/informes/lista/",
        "/ordenes/",
        "/cuentas/perfil/",
        "/cuentas/preferencias/",
    ):
        page.goto(base + path)
        check_page(page, "page" + path.replace("/", "-"))
    if page.size_name == "phone":
        # The navigation collapses behind "Menú" and opens on demand.
        nav = page.locator("#nav-principal")
        assert not nav.is_visible()
        page.get_by_role("button", name="Menú").click()
        assert nav.is_visible()
        assert page.get_by_role("link", name="Mis protocolos").is_visible()
