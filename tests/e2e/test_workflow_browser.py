"""End to end in headless Chromium: a vet submits a histopathology protocol, staff
receive it (number assigned), a histopathologist writes and saves a draft report.
Screenshots of each step go to test-output/e2e/."""

from __future__ import annotations

import re
from datetime import date

import pytest

from patolab.protocols.models import Protocol, ProtocolStatus
from patolab.reports.models import Report, ReportStatus
from tests.e2e.helpers import OUT, log_in

pytestmark = pytest.mark.e2e


def test_vet_submits_staff_receives_pathologist_drafts(
    browser_page, live_server, vet_owner, technician, pathologist
):
    page = browser_page
    base = live_server.url

    # 1. The veterinarian submits a histopathology protocol.
    log_in(page, base, vet_owner.username)
    page.goto(f"{base}/protocolos/nuevo/histopatologia/")
    page.select_option("select[name=species]", "Canino")
    page.fill("input[name=breed]", "Ovejero alemán")
    page.select_option("select[name=sex]", "female")
    page.fill("input[name=age]", "7 años")
    page.fill("input[name=animal_name]", "Luna")
    page.fill("input[name=owner_name]", "Graciela Núñez")
    page.fill("input[name=sampling_date]", date.today().isoformat())
    page.fill(
        "textarea[name=clinical_history]",
        "Nódulo subcutáneo en flanco izquierdo, 3 cm.",
    )
    page.fill("input[name=material_submitted]", "Nódulo cutáneo")
    page.fill("input[name=containers]", "2")
    page.get_by_role("button", name="Enviar protocolo").click()
    page.wait_for_url(re.compile(r".*/protocolos/\d+/$"))
    protocol = Protocol.objects.get(animal_name="Luna")
    assert protocol.status == ProtocolStatus.SUBMITTED
    assert protocol.temporary_code in page.content()
    page.screenshot(path=str(OUT / "1-vet-submitted.png"), full_page=True)

    # 2. Staff scan the temporary code (typed + Enter) and confirm reception.
    log_in(page, base, technician.username)
    page.goto(f"{base}/protocolos/recepcion/")
    page.fill("input[name=code]", protocol.temporary_code)
    page.press("input[name=code]", "Enter")
    page.wait_for_url(re.compile(rf".*/protocolos/{protocol.pk}/recibir/$"))
    page.check("input[name=sample_condition][value=optimal]")
    page.fill("input[name=containers]", "2")
    page.get_by_role("button", name="Confirmar recepción").click()
    # Back at the scanner field, ready for the next sample, with the number shown.
    page.wait_for_url(re.compile(r".*/protocolos/recepcion/"))
    protocol.refresh_from_db()
    assert protocol.status == ProtocolStatus.RECEIVED
    assert re.fullmatch(r"HP \d{2}/\d{3,}", protocol.protocol_number)
    assert protocol.protocol_number in page.content()
    page.screenshot(path=str(OUT / "2-staff-received.png"), full_page=True)

    # 3. The histopathologist writes a report and saves it as a draft.
    log_in(page, base, pathologist.username)
    page.goto(f"{base}/informes/")
    assert protocol.protocol_number in page.content()
    page.goto(f"{base}/informes/protocolo/{protocol.pk}/nuevo/")
    page.fill("textarea[name=macroscopic]", "Nódulo firme, blanquecino, de 3 x 2 cm.")
    page.fill(
        "textarea[name=microscopic]",
        "Proliferación de células fusiformes con atipia leve.",
    )
    page.fill("textarea[name=diagnosis]", "Fibrosarcoma de bajo grado.")
    page.click("button[name=save]")
    page.wait_for_url(re.compile(r".*/informes/\d+/editar/$"))
    report = Report.objects.get(protocol=protocol)
    assert report.status == ReportStatus.DRAFT
    assert report.diagnosis == "Fibrosarcoma de bajo grado."
    assert page.input_value("textarea[name=diagnosis]") == "Fibrosarcoma de bajo grado."
    page.screenshot(path=str(OUT / "3-pathologist-draft.png"), full_page=True)
    for name in (
        "1-vet-submitted.png",
        "2-staff-received.png",
        "3-pathologist-draft.png",
    ):
        assert (OUT / name).stat().st_size > 10_000
