"""Issue 10 "Trust", in headless Chromium at desktop and phone sizes: the
pathologist sees the case next to the editor and confirms before finalizing
(what is sent, to whom); after an amendment the veterinarian sees which version
is current and which was replaced, and why; the public verification page
answers an unknown code in Spanish, shows only the mismatch for a wrong file
and wraps the SHA-256 on a phone. Screenshots go to test-output/e2e/."""

from __future__ import annotations

import re

import pytest

from conftest import wait_until
from patolab.protocols.services import protocol_receive
from patolab.protocols.tests.factories import make_protocol
from patolab.reports.models import Report, ReportStatus
from patolab.reports.services import (
    report_amend,
    report_create,
    report_finalize_execute,
    report_request_finalize,
)
from tests.e2e.support import (  # noqa: F401  (sized_page is the `page` fixture)
    assert_accessible,
    body_text,
    log_in,
    overflow,
    shot,
    sized_page,
)

pytestmark = pytest.mark.e2e


def received_with_discrepancy(vet, technician):
    protocol = make_protocol(
        vet,
        animal_name="Toby",
        species="Canino",
        containers=2,
        sample_description="Dos nódulos, uno por frasco",
    )
    return protocol_receive(
        protocol=protocol,
        received_by=technician,
        sample_condition="acceptable",
        containers=1,
        discrepancies="Falta el segundo frasco.",
        notes="",
    )


def test_finalize_asks_first_and_the_vet_sees_the_superseded_version(
    page, live_server, celery_worker, smtp_sink, vet_owner, technician, pathologist
):
    base = live_server.url
    protocol = received_with_discrepancy(vet_owner, technician)
    report = report_create(
        protocol=protocol,
        histopathologist=pathologist,
        macroscopic="Nódulo firme de 2 cm.",
        microscopic="Proliferación de células fusiformes.",
        diagnosis="Fibroma.",
    )

    # The editor shows the case next to the text.
    log_in(page, base, pathologist.username)
    page.goto(f"{base}/informes/{report.pk}/editar/")
    context = page.locator(".editor-context")
    assert "1 de 2 frascos" in context.inner_text()
    assert "Falta el segundo frasco." in context.inner_text()
    assert "Dos nódulos, uno por frasco" in context.inner_text()
    assert "Canino" in context.inner_text()
    assert overflow(page) == 0
    assert_accessible(page)
    shot(page, "trust-1-editor")

    # "Finalizar…" asks first: what will be sent and to whom.
    page.get_by_role("button", name="Finalizar…").click()
    page.wait_for_url(re.compile(rf".*/informes/{report.pk}/finalizar/$"))
    text = body_text(page)
    assert "No se puede deshacer." in text
    assert vet_owner.veterinarian.full_name in text
    assert vet_owner.veterinarian.delivery_email in text
    assert "Fibroma." in text
    assert overflow(page) == 0
    assert_accessible(page)
    shot(page, "trust-2-confirm")
    report.refresh_from_db()
    assert report.status == ReportStatus.DRAFT  # nothing happened yet

    page.get_by_role("button", name="Confirmar: finalizar y enviar").click()
    page.wait_for_url(re.compile(r".*/finalizacion/.*"))
    wait_until(lambda: Report.objects.get(pk=report.pk).status == ReportStatus.SENT, 60)

    # Amend from the report page, finalize version 2 the same way.
    page.goto(f"{base}/informes/{report.pk}/")
    page.get_by_label("Motivo de la enmienda").fill("Se corrige el diagnóstico")
    page.get_by_role("button", name="Enmendar informe").click()
    page.wait_for_url(re.compile(r".*/informes/\d+/editar/$"))
    page.get_by_label("Diagnóstico").fill("Fibrosarcoma de bajo grado.")
    page.get_by_role("button", name="Finalizar…").click()
    assert "Reemplazará a la versión 1" in body_text(page)
    page.get_by_role("button", name="Confirmar: finalizar y enviar").click()
    page.wait_for_url(re.compile(r".*/finalizacion/.*"))
    new = Report.objects.get(protocol=protocol, version=2)
    wait_until(lambda: Report.objects.get(pk=new.pk).status == ReportStatus.SENT, 60)

    # The veterinarian: which version is current, which was replaced, and why.
    log_in(page, base, vet_owner.username)
    page.goto(f"{base}/protocolos/{protocol.pk}/")
    reports = page.locator("#protocol-reports")
    assert "Reemplazado por la versión 2" in reports.inner_text()
    assert "Vigente" in reports.inner_text()
    assert (
        reports.get_by_role("link", name="PDF de la versión 1 (reemplazada)").count()
        == 1
    )
    timeline = page.locator(".timeline").inner_text()
    assert "la versión 2 reemplaza a la versión 1" in timeline
    assert "Se corrige el diagnóstico" in timeline
    assert overflow(page) == 0
    assert_accessible(page)
    shot(page, "trust-3-vet-protocol")
    page.goto(f"{base}/informes/{report.pk}/")
    assert "Esta versión fue reemplazada por la versión 2." in body_text(page)
    assert overflow(page) == 0
    assert_accessible(page)
    shot(page, "trust-4-vet-old-version")


def test_public_verification_page_on_any_device(
    page, live_server, vet_owner, technician, pathologist, tmp_path
):
    base = live_server.url
    page.goto(f"{base}/verify/esto-no-es-un-codigo/")
    assert "No se emitió ningún informe con ese código." in body_text(page)
    assert overflow(page) == 0
    assert_accessible(page)
    shot(page, "trust-5-verify-unknown")

    protocol = received_with_discrepancy(vet_owner, technician)
    report = report_create(
        protocol=protocol, histopathologist=pathologist, diagnosis="Lipoma."
    )
    report_request_finalize(report=report, user=pathologist)
    report_finalize_execute(report_id=report.pk, user_id=pathologist.pk)
    report.refresh_from_db()
    page.goto(f"{base}/verify/{report.verification_id}/")
    assert "Informe auténtico y vigente." in body_text(page)
    assert report.pdf_sha256 in body_text(page).replace(" ", "")
    assert overflow(page) == 0  # the SHA-256 wraps on a phone
    shot(page, "trust-6-verify-current")

    forged = tmp_path / "informe.pdf"
    forged.write_bytes(b"%PDF-1.7 not the issued file")
    page.set_input_files("input[type=file]", str(forged))
    page.get_by_role("button", name="Comprobar").click()
    page.wait_for_load_state()
    text = body_text(page)
    assert "NO coincide con ningún PDF emitido" in text
    assert "auténtico" not in text
    assert overflow(page) == 0
    assert_accessible(page)
    shot(page, "trust-7-verify-mismatch")

    # An amendment makes the printed version 1 verify as replaced.
    new = report_amend(report=report, user=pathologist, reason="Corrección")
    report_request_finalize(report=new, user=pathologist)
    report_finalize_execute(report_id=new.pk, user_id=pathologist.pk)
    page.goto(f"{base}/verify/{report.verification_id}/")
    text = body_text(page)
    assert "Informe auténtico pero reemplazado." in text
    assert "Reemplazado por la versión 2" in text
