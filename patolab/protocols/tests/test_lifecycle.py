"""Issue 10, "Veterinarians: a life cycle": drafts that are not a dead end,
submission with every error at once, cancellation before reception, and search
that ignores accents and case (diagnosis included)."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from patolab.core.errors import Conflict
from patolab.notifications.models import EmailLog
from patolab.protocols.models import Protocol, ProtocolStatus
from patolab.protocols.services import protocol_cancel
from patolab.reports.services import report_create

from .factories import make_protocol, make_received
from .test_views import histo_form

pytestmark = pytest.mark.django_db
S = ProtocolStatus
NEW_HISTO = "/protocolos/nuevo/histopatologia/"


def error_ids(html: str) -> set[str]:
    return set(re.findall(r'id="id_(\w+)_error"', html))


def test_an_incomplete_draft_is_saved_without_code_or_email(login, vet_owner):
    client = login(vet_owner)
    response = client.post(
        NEW_HISTO, {"animal_name": "Luna", "containers": "", "action": "draft"}
    )
    protocol = Protocol.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/protocolos/{protocol.pk}/"
    assert protocol.status == S.DRAFT
    assert protocol.temporary_code is None
    assert protocol.sampling_date is None
    assert not EmailLog.objects.exists()
    page = client.get(f"/protocolos/{protocol.pk}/").content.decode()
    assert "Completar y enviar" in page
    assert "Descartar borrador" in page
    # Not in reception's list: nothing was sent yet.
    assert protocol not in Protocol.objects.filter(status=S.SUBMITTED)


def test_a_draft_keeps_well_formed_values_only(login, vet_owner):
    response = login(vet_owner).post(
        NEW_HISTO,
        {
            "animal_name": "Luna",
            "containers": "0",
            "sampling_date": "2099-01-01",
            "action": "draft",
        },
    )
    assert response.status_code == 400
    assert error_ids(response.content.decode()) == {"containers", "sampling_date"}
    assert not Protocol.objects.exists()


def test_submission_shows_every_problem_in_one_round(login, vet_owner):
    """Required fields and business rules together: a future date and zero
    containers are reported in the same answer as the missing fields."""
    data = histo_form(
        species="",
        animal_name="",
        sampling_date="2099-01-01",
        containers="0",
        material_submitted="",
    )
    response = login(vet_owner).post(NEW_HISTO, {**data, "action": "submit"})
    html = response.content.decode()
    assert response.status_code == 400
    assert error_ids(html) == {
        "species",
        "animal_name",
        "sampling_date",
        "containers",
        "material_submitted",
    }
    assert "La fecha de toma de muestra no puede ser futura." in html
    assert "Debe enviar al menos un frasco." in html
    # A summary on top lists them, and the first errored input takes the focus.
    assert 'class="error-summary" role="alert"' in html
    assert "Hay 5 problemas" in html
    assert re.search(r'<select name="species"[^>]*autofocus', html)
    assert html.count("autofocus") == 1
    assert 'aria-describedby="id_containers_error"' in html
    assert not Protocol.objects.exists()


def test_draft_is_edited_then_submitted(login, vet_owner):
    client = login(vet_owner)
    client.post(NEW_HISTO, {"animal_name": "Luna", "action": "draft"})
    protocol = Protocol.objects.get()
    edit = f"/protocolos/{protocol.pk}/editar/"
    assert client.get(edit).status_code == 200
    # Submitting from the draft page while incomplete: the form with every error.
    response = client.post(f"/protocolos/{protocol.pk}/enviar/")
    assert response.status_code == 400
    assert {"species", "sampling_date", "material_submitted"} <= error_ids(
        response.content.decode()
    )
    protocol.refresh_from_db()
    assert protocol.status == S.DRAFT
    # Completed and submitted from the edit form.
    response = client.post(edit, {**histo_form(animal_name="Luna"), "action": "submit"})
    protocol.refresh_from_db()
    assert response.status_code == 302
    assert protocol.status == S.SUBMITTED
    assert re.fullmatch(r"TMP-HP-\d{8}-\d{3}", protocol.temporary_code)
    assert list(protocol.history.values_list("from_status", "to_status")) == [
        (S.DRAFT, S.SUBMITTED)
    ]
    # The confirmation e-mail links to the printable slip.
    mail = EmailLog.objects.get(kind="submitted", protocol=protocol)
    assert f"/protocolos/{protocol.pk}/comprobante/" in mail.body_text
    # No more editing once submitted.
    assert client.get(edit).status_code == 302


def test_cancel_before_reception_removes_it_from_pending(login, vet_owner, technician):
    protocol = make_protocol(vet_owner)
    staff = login(technician)
    assert (
        protocol.temporary_code
        in staff.get("/protocolos/recepcion/pendientes/").content.decode()
    )
    response = login(vet_owner).post(f"/protocolos/{protocol.pk}/cancelar/")
    assert response.status_code == 302
    protocol.refresh_from_db()
    assert protocol.status == S.CANCELLED
    assert (
        protocol.temporary_code
        not in staff.get("/protocolos/recepcion/pendientes/").content.decode()
    )
    assert protocol.history.last().to_status == S.CANCELLED


def test_no_cancel_after_reception_and_not_for_others(
    login, vet_owner, vet_other, technician
):
    received = make_received(vet_owner, technician)
    with pytest.raises(Conflict):
        protocol_cancel(protocol=received, user=vet_owner)
    submitted = make_protocol(vet_owner)
    other = login(vet_other)
    for path in ("cancelar", "enviar", "editar", "comprobante"):
        url = f"/protocolos/{submitted.pk}/{path}/"
        response = other.post(url) if path in ("cancelar", "enviar") else other.get(url)
        assert response.status_code == 404, url
    submitted.refresh_from_db()
    assert submitted.status == S.SUBMITTED


@pytest.mark.parametrize("term", ["nandu", "ÑANDÚ", "ñandu", "Nandú"])
def test_search_ignores_accents_and_case(login, vet_owner, term, api):
    make_protocol(vet_owner, animal_name="Ñandú", species="Aviar")
    make_protocol(vet_owner, animal_name="Luna")
    html = login(vet_owner).get("/protocolos/", {"q": term}).content.decode()
    assert "Ñandú" in html
    assert "Luna" not in html
    results = api(vet_owner).get("/api/v1/protocols", q=term).json()["results"]
    assert [p["animal_name"] for p in results] == ["Ñandú"]


def test_search_finds_the_diagnosis(login, vet_owner, technician, pathologist, api):
    received = make_received(vet_owner, technician, animal_name="Toby")
    make_received(vet_owner, technician, animal_name="Luna")
    report_create(
        protocol=received,
        histopathologist=pathologist,
        diagnosis="Carcinoma de células escamosas",
    )
    staff_html = login(technician).get("/protocolos/", {"q": "celulas escamosas"})
    assert "Toby" in staff_html.content.decode()
    assert "Luna" not in staff_html.content.decode()
    # A draft's diagnosis is not the veterinarian's to search yet.
    vet_results = api(vet_owner).get("/api/v1/protocols", q="escamosas").json()
    assert vet_results["count"] == 0
    # Their own presumptive diagnosis is.
    make_protocol(vet_owner, animal_name="Mía", presumptive_diagnosis="Linfoma cutáneo")
    vet_results = api(vet_owner).get("/api/v1/protocols", q="LINFOMA CUTANEO").json()
    assert [p["animal_name"] for p in vet_results["results"]] == ["Mía"]


def test_reports_list_search_ignores_accents(login, vet_owner, technician, pathologist):
    received = make_received(vet_owner, technician, animal_name="Ñandú")
    report_create(
        protocol=received, histopathologist=pathologist, diagnosis="Aspergilosis"
    )
    html = login(pathologist).get("/informes/lista/", {"q": "nandu"}).content.decode()
    assert "Ñandú" in html
    html = (
        login(pathologist)
        .get("/informes/lista/", {"q": "ASPERGILOSIS"})
        .content.decode()
    )
    assert "Ñandú" in html


def test_api_draft_patch_submit_and_cancel(api, vet_owner, vet_other):
    client = api(vet_owner)
    created = client.post(
        "/api/v1/protocols",
        {"analysis_type": "histopathology", "animal_name": "Luna", "draft": True},
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["status"] == "draft"
    assert body["temporary_code"] is None
    assert body["sampling_date"] is None
    pk = body["id"]
    # Incomplete: every missing field named in one 400, nothing changes.
    refused = client.post(f"/api/v1/protocols/{pk}/submit")
    assert refused.status_code == 400
    assert {"species", "sampling_date", "material_submitted"} <= set(
        refused.json()["errors"]
    )
    patched = client.patch(
        f"/api/v1/protocols/{pk}",
        {
            "species": "Canino",
            "sampling_date": timezone.localdate().isoformat(),
            "material_submitted": "Nódulo",
        },
    )
    assert patched.status_code == 200, patched.content
    # Another vet cannot see it (404), let alone submit it.
    assert api(vet_other).post(f"/api/v1/protocols/{pk}/submit").status_code == 404
    submitted = client.post(f"/api/v1/protocols/{pk}/submit")
    assert submitted.status_code == 200, submitted.content
    assert submitted.json()["status"] == "submitted"
    assert submitted.json()["slip_url"] == f"/api/v1/protocols/{pk}/slip.pdf"
    assert client.patch(f"/api/v1/protocols/{pk}", {"age": "3"}).status_code == 409
    # The slip: a PDF endpoint (202 + job while it is made).
    slip = client.get(f"/api/v1/protocols/{pk}/slip.pdf")
    assert slip.status_code == 202
    assert slip["Retry-After"]
    cancelled = client.post(f"/api/v1/protocols/{pk}/cancel", {"reason": "Error"})
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert client.post(f"/api/v1/protocols/{pk}/cancel").status_code == 409
