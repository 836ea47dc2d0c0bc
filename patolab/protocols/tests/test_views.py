from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from patolab.protocols.models import Protocol, ProtocolStatus, Reception

from .factories import make_protocol, make_received

pytestmark = pytest.mark.django_db
S = ProtocolStatus


def histo_form(**overrides):
    data = {
        "species": "Canino",
        "breed": "Boxer",
        "sex": "male",
        "age": "9 años",
        "animal_name": "Toby",
        "owner_name": "Laura Díaz",
        "sampling_date": (timezone.localdate() - timedelta(days=2)).isoformat(),
        "presumptive_diagnosis": "Mastocitoma",
        "clinical_history": "Nódulo en miembro posterior.",
        "sample_description": "Pieza quirúrgica",
        "material_submitted": "Nódulo cutáneo",
        "containers": "1",
        "preservation": "Formol 10 %",
    }
    data.update(overrides)
    return data


def cyto_form(**overrides):
    data = {
        "species": "Felino",
        "sex": "female",
        "animal_name": "Mora",
        "sampling_date": timezone.localdate().isoformat(),
        "technique": "PAAF",
        "sampling_site": "Linfonodo poplíteo",
        "slides": "2",
    }
    data.update(overrides)
    return data


def field_errors(response, field):
    return response.context["form"].errors.get(field, [])


# ---------------------------------------------------------------- submission
def test_vet_submits_histopathology_and_sees_temporary_code(login, vet_owner):
    response = login(vet_owner).post("/protocolos/nuevo/histopatologia/", histo_form())
    protocol = Protocol.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/protocolos/{protocol.pk}/"
    assert protocol.analysis_type == "histopathology"
    assert protocol.status == S.SUBMITTED
    page = login(vet_owner).get(response["Location"])
    assert protocol.temporary_code in page.content.decode()


def test_vet_submits_cytology(login, vet_owner):
    response = login(vet_owner).post("/protocolos/nuevo/citologia/", cyto_form())
    assert response.status_code == 302
    protocol = Protocol.objects.get()
    assert (protocol.analysis_type, protocol.technique, protocol.slides) == (
        "cytology",
        "PAAF",
        2,
    )


@pytest.mark.parametrize(
    ("url", "make", "overrides", "field", "message"),
    [
        (
            "/protocolos/nuevo/histopatologia/",
            histo_form,
            {"animal_name": ""},
            "animal_name",
            "Este campo es obligatorio.",
        ),
        (
            "/protocolos/nuevo/histopatologia/",
            histo_form,
            {"species": ""},
            "species",
            "Este campo es obligatorio.",
        ),
        (
            "/protocolos/nuevo/histopatologia/",
            histo_form,
            {"containers": "0"},
            "containers",
            "Debe enviar al menos un frasco.",
        ),
        (
            "/protocolos/nuevo/histopatologia/",
            histo_form,
            {"material_submitted": ""},
            "material_submitted",
            "Este campo es obligatorio.",
        ),
        (
            "/protocolos/nuevo/histopatologia/",
            histo_form,
            {"sampling_date": "2099-01-01"},
            "sampling_date",
            "La fecha de toma de muestra no puede ser futura.",
        ),
        (
            "/protocolos/nuevo/citologia/",
            cyto_form,
            {"technique": ""},
            "technique",
            "Este campo es obligatorio.",
        ),
        (
            "/protocolos/nuevo/citologia/",
            cyto_form,
            {"slides": "0"},
            "slides",
            "Debe enviar al menos un portaobjetos.",
        ),
    ],
)
def test_bad_submission_shows_spanish_error_next_to_field(
    login, vet_owner, url, make, overrides, field, message
):
    response = login(vet_owner).post(url, make(**overrides))
    assert response.status_code == 400
    assert message in field_errors(response, field)
    html = response.content.decode()
    # Next to the field, with the id its input's aria-describedby points at.
    assert f'<div class="field-error" id="id_{field}_error"><p>{message}</p>' in html
    assert f'aria-describedby="id_{field}_error"' in html
    assert Protocol.objects.count() == 0


def test_incomplete_profile_is_sent_to_profile_page(login, vet_owner):
    vet = vet_owner.veterinarian
    vet.license_number = ""
    vet.save()
    response = login(vet_owner).get("/protocolos/nuevo/histopatologia/")
    assert response.status_code == 302
    assert "/cuentas/" in response["Location"]


def test_staff_cannot_open_submission_forms(login, technician):
    assert login(technician).get("/protocolos/nuevo/citologia/").status_code == 403


# ---------------------------------------------------------------- visibility
def test_vet_list_shows_only_own_protocols(login, vet_owner, vet_other):
    make_protocol(vet_owner, animal_name="Firulais")
    make_protocol(vet_other, animal_name="Pelusa")
    html = login(vet_owner).get("/protocolos/").content.decode()
    assert "Firulais" in html
    assert "Pelusa" not in html


def test_other_vet_gets_404_on_protocol_pages(login, vet_owner, vet_other):
    theirs = make_protocol(vet_other)
    client = login(vet_owner)
    assert client.get(f"/protocolos/{theirs.pk}/").status_code == 404
    assert client.get(f"/protocolos/{theirs.pk + 1000}/").status_code == 404


def test_vet_cannot_use_staff_pages(login, vet_owner):
    protocol = make_protocol(vet_owner)
    client = login(vet_owner)
    for url in (
        "/protocolos/recepcion/",
        "/protocolos/recepcion/pendientes/",
        "/protocolos/recepcion/historial/",
        f"/protocolos/{protocol.pk}/recibir/",
        f"/protocolos/{protocol.pk}/rechazar/",
    ):
        assert client.get(url).status_code == 403, url
    response = client.post(
        f"/protocolos/{protocol.pk}/estado/", {"status": "cancelled"}
    )
    assert response.status_code == 403
    assert Protocol.objects.get(pk=protocol.pk).status == S.SUBMITTED


def test_vet_detail_hides_emails_and_actions(login, vet_owner):
    protocol = make_protocol(vet_owner)
    html = login(vet_owner).get(f"/protocolos/{protocol.pk}/").content.decode()
    assert "E-mails enviados" not in html
    assert "Historial de estados" in html
    assert "/recibir/" not in html


def test_list_filters_by_status_and_search(login, vet_owner, technician):
    make_protocol(vet_owner, animal_name="Firulais")
    make_received(vet_owner, technician, animal_name="Rocco")
    client = login(technician)
    html = client.get("/protocolos/", {"status": "received"}).content.decode()
    assert "Rocco" in html
    assert "Firulais" not in html
    html = client.get("/protocolos/", {"q": "firu"}).content.decode()
    assert "Firulais" in html
    assert "Rocco" not in html


# ---------------------------------------------------------------- reception
def test_scanner_code_goes_straight_to_the_receive_form(login, vet_owner, technician):
    protocol = make_protocol(vet_owner)
    response = login(technician).get(
        "/protocolos/recepcion/", {"code": protocol.temporary_code.lower() + " "}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/protocolos/{protocol.pk}/recibir/"


def test_scanned_protocol_url_is_found(login, vet_owner, technician):
    protocol = make_received(vet_owner, technician)
    response = login(technician).get(
        "/protocolos/recepcion/",
        {"code": f"http://lab.example/protocolos/{protocol.pk}/"},
    )
    assert response["Location"] == f"/protocolos/{protocol.pk}/"


def test_unknown_code_shows_spanish_message(login, technician):
    response = login(technician).get("/protocolos/recepcion/", {"code": "TMP-HP-1"})
    assert response.status_code == 200
    assert field_errors(response, "code") == [
        "No se encontró ningún protocolo con el código «TMP-HP-1»."
    ]


def test_receive_form_assigns_number(login, vet_owner, technician):
    protocol = make_protocol(vet_owner)  # 2 containers declared
    client = login(technician)
    response = client.post(
        f"/protocolos/{protocol.pk}/recibir/",
        {"sample_condition": "optimal", "containers": "2", "notes": ""},
    )
    assert response.status_code == 302
    fresh = Protocol.objects.get(pk=protocol.pk)
    assert fresh.status == S.RECEIVED
    assert fresh.protocol_number
    # Back on the scanner page: the number is announced and the field is clean.
    page = client.get(response["Location"]).content.decode()
    assert fresh.protocol_number in page
    assert "field-error" not in page


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"sample_condition": "optimal", "containers": "0"},
            "containers",
            "Debe recibirse al menos un recipiente.",
        ),
        (
            {"sample_condition": "optimal", "containers": "3"},
            "discrepancies",
            "Se declararon 2 y se recibieron 3: describa la discrepancia.",
        ),
        ({"containers": "2"}, "sample_condition", "Este campo es obligatorio."),
    ],
)
def test_bad_reception_form_shows_error_next_to_field(
    login, vet_owner, technician, data, field, message
):
    protocol = make_protocol(vet_owner)
    response = login(technician).post(f"/protocolos/{protocol.pk}/recibir/", data)
    assert response.status_code == 200
    assert message in field_errors(response, field)
    assert not Reception.objects.exists()
    assert Protocol.objects.get(pk=protocol.pk).protocol_number is None


def test_receiving_twice_in_the_form_shows_conflict(login, vet_owner, technician):
    protocol = make_received(vet_owner, technician)
    response = login(technician).post(
        f"/protocolos/{protocol.pk}/recibir/",
        {"sample_condition": "optimal", "containers": "2"},
    )
    assert response.status_code == 200
    assert "ya fue recibido" in " ".join(response.context["form"].non_field_errors())
    assert Reception.objects.count() == 1


def test_reject_form_requires_reason_then_rejects(login, vet_owner, technician):
    protocol = make_protocol(vet_owner)
    client = login(technician)
    response = client.post(f"/protocolos/{protocol.pk}/rechazar/", {"reason": ""})
    assert "Este campo es obligatorio." in field_errors(response, "reason")
    assert Protocol.objects.get(pk=protocol.pk).status == S.SUBMITTED
    response = client.post(
        f"/protocolos/{protocol.pk}/rechazar/", {"reason": "Muestra sin formol"}
    )
    assert response.status_code == 302
    assert Protocol.objects.get(pk=protocol.pk).status == S.REJECTED
    # Receiving it afterwards is refused.
    response = client.post(
        f"/protocolos/{protocol.pk}/recibir/",
        {"sample_condition": "optimal", "containers": "2"},
    )
    assert "rechazado" in " ".join(response.context["form"].non_field_errors())
    assert not Reception.objects.exists()


def test_staff_moves_protocol_to_processing_and_ready(login, vet_owner, technician):
    protocol = make_received(vet_owner, technician)
    client = login(technician)
    html = client.get(f"/protocolos/{protocol.pk}/").content.decode()
    assert "E-mails enviados" in html
    for status in ("processing", "ready"):
        response = client.post(f"/protocolos/{protocol.pk}/estado/", {"status": status})
        assert response.status_code == 302
    assert Protocol.objects.get(pk=protocol.pk).status == S.READY


def test_invalid_status_action_shows_message_and_changes_nothing(
    login, vet_owner, technician
):
    protocol = make_protocol(vet_owner)
    client = login(technician)
    response = client.post(
        f"/protocolos/{protocol.pk}/estado/", {"status": "ready"}, follow=True
    )
    html = response.content.decode()
    assert "No se puede pasar el protocolo" in html
    assert Protocol.objects.get(pk=protocol.pk).status == S.SUBMITTED


def test_pending_list_oldest_first_with_days_waiting(login, vet_owner, technician):
    old = make_protocol(
        vet_owner,
        animal_name="Viejo",
    )
    Protocol.objects.filter(pk=old.pk).update(
        submitted_at=timezone.now() - timedelta(days=6)
    )
    make_protocol(vet_owner, animal_name="Nuevo")
    response = login(technician).get("/protocolos/recepcion/pendientes/")
    items = response.context["items"]
    assert [i.protocol.animal_name for i in items] == ["Viejo", "Nuevo"]
    assert items[0].days_waiting == 6
    assert items[0].overdue is True
    assert 'class="overdue"' in response.content.decode()


def test_reception_history_lists_receptions(login, vet_owner, technician):
    received = make_received(vet_owner, technician)
    html = login(technician).get("/protocolos/recepcion/historial/").content.decode()
    assert received.protocol_number in html


def test_dashboard_panels(login, vet_owner, technician):
    make_protocol(vet_owner)
    html = login(vet_owner).get("/").content.decode()
    assert "Mis protocolos" in html
    html = login(technician).get("/").content.decode()
    assert "1 muestras pendientes de recepción." in html


def test_overdue_flag_in_staff_list(login, vet_owner, technician):
    protocol = make_received(vet_owner, technician, kind="cytology")
    Protocol.objects.filter(pk=protocol.pk).update(
        received_at=timezone.now() - timedelta(days=4)
    )
    html = login(technician).get("/protocolos/").content.decode()
    assert "Demorado" in html


def test_field_errors_stay_spanish_for_an_english_browser(login, vet_owner, technician):
    protocol = make_protocol(vet_owner)
    client = login(technician)
    response = client.post(
        f"/protocolos/{protocol.pk}/recibir/",
        {"containers": "dos"},
        headers={"accept-language": "en-US,en;q=0.9"},
    )
    assert field_errors(response, "sample_condition") == ["Este campo es obligatorio."]
    assert field_errors(response, "containers") == ["Debe ser un número entero."]
