from __future__ import annotations

import pytest

from patolab.protocols.models import Protocol, ProtocolStatus

from .factories import make_received

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(admin):
    admin.is_staff = True
    admin.is_superuser = True
    admin.save()
    return admin


def test_admin_changelist_searches_by_number(login, superuser, vet_owner, technician):
    protocol = make_received(vet_owner, technician, animal_name="Firulais")
    client = login(superuser)
    response = client.get("/admin/protocols/protocol/", {"q": protocol.protocol_number})
    assert response.status_code == 200
    assert "Firulais" in response.content.decode()
    detail = client.get(f"/admin/protocols/protocol/{protocol.pk}/change/")
    assert detail.status_code == 200
    for path in ("reception", "protocolstatushistory", "counter"):
        assert client.get(f"/admin/protocols/{path}/").status_code == 200


def test_admin_status_action_starts_one_job_instead_of_changing_in_the_request(
    login, superuser, vet_owner, technician
):
    from patolab.jobs.models import Job

    protocol = make_received(vet_owner, technician)
    response = login(superuser).post(
        "/admin/protocols/protocol/",
        {"action": "move_to_ready", "_selected_action": [protocol.pk]},
    )
    job = Job.objects.get(kind="protocols.bulk_status")
    assert response.status_code == 302
    assert response["Location"].startswith(f"/trabajos/{job.pk}/?volver=")
    assert job.params == {"protocol_ids": [protocol.pk], "status": "ready", "note": ""}
    # The state machine runs in the job (tests/integration), not in the request.
    assert Protocol.objects.get(pk=protocol.pk).status == ProtocolStatus.RECEIVED


def test_numbered_protocol_cannot_be_deleted_and_its_identity_is_read_only(
    login, superuser, vet_owner, technician
):
    from patolab.protocols.tests.factories import make_protocol

    numbered = make_received(vet_owner, technician)
    client = login(superuser)
    assert (
        client.get(f"/admin/protocols/protocol/{numbered.pk}/delete/").status_code
        == 403
    )
    page = client.get(
        f"/admin/protocols/protocol/{numbered.pk}/change/"
    ).content.decode()
    for field in ("protocol_number", "analysis_type", "veterinarian", "temporary_code"):
        assert f'name="{field}"' not in page
    assert numbered.protocol_number in page
    # A histopathology protocol's page shows no cytology fields.
    assert 'name="technique"' not in page
    assert 'name="slides"' not in page
    assert 'name="material_submitted"' in page
    # History and receptions are never deleted; the bulk delete action is gone.
    history = numbered.history.first()
    assert (
        client.get(
            f"/admin/protocols/protocolstatushistory/{history.pk}/delete/"
        ).status_code
        == 403
    )
    listing = client.get("/admin/protocols/protocol/").content.decode()
    assert "delete_selected" not in listing
    # A protocol that never got a number (e.g. a draft) may still be deleted.
    draft = make_protocol(vet_owner)
    assert (
        client.get(f"/admin/protocols/protocol/{draft.pk}/delete/").status_code == 200
    )


def test_admin_is_spanish_with_readable_object_names(
    login, superuser, vet_owner, technician
):
    protocol = make_received(vet_owner, technician)
    client = login(superuser)
    index = client.get("/admin/").content.decode()
    for name in (
        "Protocolos",
        "Informes",
        "Órdenes de trabajo",
        "Trabajos en segundo plano",
    ):
        assert name in index
    receptions = client.get("/admin/protocols/reception/").content.decode()
    assert protocol.protocol_number in receptions
    assert "Reception object" not in receptions
    assert "Recibido por" in receptions or "recibido por" in receptions.lower()


def test_admin_action_prints_labels_of_selected_protocols_as_one_batch_job(
    login, superuser, vet_owner, technician
):
    from patolab.jobs.models import Job
    from patolab.protocols.tests.factories import make_received

    first = make_received(vet_owner, technician)
    second = make_received(vet_owner, technician)
    response = login(superuser).post(
        "/admin/protocols/protocol/",
        {"action": "print_labels", "_selected_action": [first.pk, second.pk]},
    )
    job = Job.objects.get(kind="labels.batch")
    assert response.status_code == 302
    assert response["Location"].startswith(f"/trabajos/{job.pk}/")
    assert sorted(job.params["protocol_ids"]) == sorted([first.pk, second.pk])


def test_reception_queues_label_generation(vet_owner, technician):
    from patolab.jobs.models import Job
    from patolab.protocols.tests.factories import make_received

    protocol = make_received(vet_owner, technician)
    job = Job.objects.get(kind="labels.generate")
    assert job.target == f"protocols.protocol:{protocol.pk}"
    assert job.requested_by == technician
