"""What a user sees about report versions, verification, the editor context and
who gets an "Editar" link (issue 10, "Trust")."""

from __future__ import annotations

import re

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from patolab.protocols.services import protocol_receive
from patolab.protocols.tests.factories import make_protocol
from patolab.reports.models import Report
from patolab.reports.services import (
    report_amend,
    report_finalize_execute,
    report_request_finalize,
)

pytestmark = pytest.mark.django_db


def finalize_now(report, user):
    report_request_finalize(report=report, user=user)
    report_finalize_execute(report_id=report.pk, user_id=user.pk)
    report.refresh_from_db()


@pytest.fixture
def amended(pathologist, draft_report):
    """Version 1 finalized and superseded by a finalized version 2."""
    finalize_now(draft_report, pathologist)
    new = report_amend(
        report=draft_report, user=pathologist, reason="Error en el grado tumoral"
    )
    finalize_now(new, pathologist)
    return draft_report, new


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def test_old_version_says_superseded_and_new_one_says_current_everywhere(
    login, vet_owner, pathologist, technician, amended
):
    old, new = amended
    for user in (vet_owner, technician, pathologist):
        client = login(user)
        protocol_page = text(
            client.get(
                reverse("protocols:protocol-detail", kwargs={"pk": old.protocol_id})
            )
        )
        assert "Reemplazado por la versión 2" in protocol_page
        assert "Vigente" in protocol_page
        assert "PDF de la versión 1 (reemplazada)" in protocol_page
        old_page = text(client.get(reverse("reports:detail", kwargs={"pk": old.pk})))
        assert "Esta versión fue reemplazada por la versión 2." in old_page
        assert "PDF de la versión 1 (reemplazada)" in old_page
        assert "PDF v2 (vigente)" in old_page  # the version table
        new_page = text(client.get(reverse("reports:detail", kwargs={"pk": new.pk})))
        assert "Esta versión fue reemplazada" not in new_page
        assert '<span class="badge version-current">Vigente</span>' in new_page
        listing = text(client.get(reverse("reports:list")))
        assert "Reemplazado por la versión 2" in listing
        assert "PDF v1 (reemplazada)" in listing
        # Never both shown as plain "Enviado".
        assert "state-sent" not in listing


def test_draft_amendment_leaves_version_one_current(
    login, vet_owner, pathologist, draft_report
):
    finalize_now(draft_report, pathologist)
    report_amend(report=draft_report, user=pathologist, reason="Revisión")
    page = text(
        login(vet_owner).get(
            reverse(
                "protocols:protocol-detail", kwargs={"pk": draft_report.protocol_id}
            )
        )
    )
    assert "Vigente" in page
    assert "Reemplazado" not in page


def test_amendment_appears_in_the_protocol_timeline_with_its_reason(
    login, vet_owner, pathologist, technician, amended
):
    old, _new = amended
    url = reverse("protocols:protocol-detail", kwargs={"pk": old.protocol_id})
    for user in (vet_owner, technician):
        page = text(login(user).get(url))
        timeline = page[page.index('class="timeline"') :]
        assert "Informe enmendado: la versión 2 reemplaza a la versión 1" in timeline
        assert "Motivo: Error en el grado tumoral" in timeline


def test_amendment_in_draft_is_in_the_staff_timeline_only(
    login, vet_owner, technician, pathologist, draft_report
):
    finalize_now(draft_report, pathologist)
    report_amend(report=draft_report, user=pathologist, reason="Revisión de bordes")
    url = reverse("protocols:protocol-detail", kwargs={"pk": draft_report.protocol_id})
    assert "Enmienda en curso: versión 2" in text(login(technician).get(url))
    assert "Revisión de bordes" not in text(login(vet_owner).get(url))


def test_staff_see_no_edit_link_they_cannot_use(
    login, technician, pathologist, draft_report
):
    edit = reverse("reports:edit", kwargs={"pk": draft_report.pk})
    protocol_url = reverse(
        "protocols:protocol-detail", kwargs={"pk": draft_report.protocol_id}
    )
    detail_url = reverse("reports:detail", kwargs={"pk": draft_report.pk})
    staff = login(technician)
    assert staff.get(edit).status_code == 403
    for url in (protocol_url, detail_url):
        assert edit not in staff.get(url).content.decode()
    assert edit in login(pathologist).get(protocol_url).content.decode()


@pytest.mark.parametrize(
    "code",
    [
        "00000000-0000-0000-0000-000000000000",  # well-formed, never issued
        "not-a-uuid",
        "12345",
        "",
    ],
)
def test_unknown_or_malformed_code_says_no_report_was_issued(client, settings, code):
    settings.DEBUG = True  # never Django's debug page, even so
    response = client.get(f"/verify/{code}/")
    assert response.status_code == 404
    html = text(response)
    assert "No se emitió ningún informe con ese código." in html
    assert "Page not found" not in html
    assert "URLconf" not in html


def test_draft_verification_code_is_unknown_publicly(client, draft_report):
    response = client.get(
        reverse("verify", kwargs={"verification_id": draft_report.verification_id})
    )
    assert response.status_code == 404
    assert "No se emitió ningún informe" in text(response)


def test_mismatching_upload_shows_only_the_mismatch(client, pathologist, draft_report):
    finalize_now(draft_report, pathologist)
    url = reverse("verify", kwargs={"verification_id": draft_report.verification_id})
    with default_storage.open(draft_report.pdf_file, "rb") as handle:
        data = handle.read()
    html = text(client.post(url, {"file": SimpleUploadedFile("x.pdf", data + b"%")}))
    assert "NO coincide con ningún PDF emitido" in html
    assert "auténtico" not in html
    assert "msg-success" not in html
    good = text(client.post(url, {"file": SimpleUploadedFile("i.pdf", data)}))
    assert "coincide con el PDF vigente" in good
    assert "Informe auténtico y vigente." in good


def test_hashes_are_marked_to_wrap(client, pathologist, draft_report):
    finalize_now(draft_report, pathologist)
    html = text(
        client.get(
            reverse("verify", kwargs={"verification_id": draft_report.verification_id})
        )
    )
    assert f'<code class="hash">{draft_report.pdf_sha256}</code>' in html


def test_editor_shows_what_the_pathologist_needs(
    login, vet_owner, technician, pathologist
):
    protocol = make_protocol(
        vet_owner,
        containers=2,
        sample_description="Dos nódulos en frascos separados",
        clinical_history="Crecimiento rápido en 3 semanas.",
        species="Felino",
    )
    protocol_receive(
        protocol=protocol,
        received_by=technician,
        sample_condition="suboptimal",
        containers=1,
        discrepancies="Llegó un solo frasco; el segundo no vino.",
        notes="",
    )
    page = text(
        login(pathologist).get(
            reverse("reports:create", kwargs={"protocol_pk": protocol.pk})
        )
    )
    assert "1 de 2 frascos" in page
    assert "Subóptima" in page
    assert "Llegó un solo frasco; el segundo no vino." in page
    assert "Dos nódulos en frascos separados" in page
    assert "Crecimiento rápido en 3 semanas." in page
    assert "Felino" in page
    assert "Descripción macroscópica" in page


def test_cytology_report_has_cytology_fields(login, vet_owner, technician, pathologist):
    protocol = make_protocol(vet_owner, kind="cytology", slides=3)
    protocol_receive(
        protocol=protocol,
        received_by=technician,
        sample_condition="optimal",
        containers=3,
        discrepancies="",
        notes="",
    )
    client = login(pathologist)
    url = reverse("reports:create", kwargs={"protocol_pk": protocol.pk})
    page = text(client.get(url))
    assert "Descripción macroscópica" not in page
    assert 'name="macroscopic"' not in page
    assert "Descripción citológica" in page
    assert "Diagnóstico citológico" in page
    assert "3 de 3 portaobjetos" in page
    client.post(
        url, {"microscopic": "Células redondas", "diagnosis": "Linfoma", "save": "1"}
    )
    report = Report.objects.get(protocol=protocol)
    assert report.microscopic == "Células redondas"
    detail = text(client.get(reverse("reports:detail", kwargs={"pk": report.pk})))
    assert "Descripción macroscópica" not in detail
    assert "Diagnóstico citológico" in detail


def test_finalize_confirmation_for_an_amendment_names_the_replaced_version(
    login, pathologist, draft_report
):
    finalize_now(draft_report, pathologist)
    new = report_amend(report=draft_report, user=pathologist, reason="Corrección")
    page = text(
        login(pathologist).get(reverse("reports:finalize", kwargs={"pk": new.pk}))
    )
    assert "Reemplazará a la versión 1" in page


def test_finalize_confirmation_is_for_reporters_only(login, technician, draft_report):
    url = reverse("reports:finalize", kwargs={"pk": draft_report.pk})
    assert login(technician).get(url).status_code == 403
    assert login(technician).post(url).status_code == 403
