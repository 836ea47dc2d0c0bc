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


def test_admin_action_goes_through_the_state_machine(
    login, superuser, vet_owner, technician
):
    protocol = make_received(vet_owner, technician)
    response = login(superuser).post(
        "/admin/protocols/protocol/",
        {"action": "move_to_ready", "_selected_action": [protocol.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert "No se puede pasar el protocolo" in response.content.decode()
    assert Protocol.objects.get(pk=protocol.pk).status == ProtocolStatus.RECEIVED


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
    assert response["Location"] == f"/trabajos/{job.pk}/"
    assert sorted(job.params["protocol_ids"]) == sorted([first.pk, second.pk])


def test_reception_queues_label_generation(vet_owner, technician):
    from patolab.jobs.models import Job
    from patolab.protocols.tests.factories import make_received

    protocol = make_received(vet_owner, technician)
    job = Job.objects.get(kind="labels.generate")
    assert job.target == f"protocols.protocol:{protocol.pk}"
    assert job.requested_by == technician
