"""HTML: label PDF / generating page, batch selection page, batch download."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from patolab.accounts.models import User
from patolab.core.documents import document_build
from patolab.jobs.models import Job, JobState
from patolab.labels.jobs import LABEL_DOCUMENT
from patolab.labels.services import start_label_batch

from .factories import make_protocol

pytestmark = pytest.mark.django_db
Login = Callable[[User], Client]


def test_vet_cannot_open_label_pages(
    login: Login, vet_owner: User, technician: User
) -> None:
    protocol = make_protocol(vet=vet_owner, received_by=technician)
    client = login(vet_owner)
    assert client.get(reverse("labels:batch")).status_code == 403
    url = reverse("labels:protocol-pdf", kwargs={"pk": protocol.pk})
    assert client.get(url).status_code == 403
    assert not Job.objects.exists()


def test_missing_labels_show_a_generating_page_that_follows_the_job(
    login: Login, vet_owner: User, technician: User
) -> None:
    protocol = make_protocol(vet=vet_owner, received_by=technician)
    client = login(technician)
    response = client.get(reverse("labels:protocol-pdf", kwargs={"pk": protocol.pk}))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Generando etiquetas" in html
    status_url = reverse(
        "jobs:document-status", kwargs={"kind": "labels", "pk": protocol.pk}
    )
    assert f'hx-get="{status_url}"' in html
    job = Job.objects.get(kind="labels.generate")
    assert f'id="job-{job.pk}"' in html
    # While the job runs the poll answers 204, so htmx keeps the page as is.
    assert client.get(status_url).status_code == 204
    # Once the labels exist the poll swaps in the download button.
    document_build(LABEL_DOCUMENT, protocol)
    ready = client.get(status_url)
    assert ready.status_code == 200
    assert "Descargar etiquetas" in ready.content.decode()


def test_current_labels_are_served_as_pdf(
    login: Login, vet_owner: User, technician: User
) -> None:
    protocol = make_protocol(vet=vet_owner, received_by=technician)
    doc = document_build(LABEL_DOCUMENT, protocol)
    client = login(technician)
    url = reverse("labels:protocol-pdf", kwargs={"pk": protocol.pk})
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["ETag"] == f'"{doc.sha256}"'
    cached = client.get(url, headers={"If-None-Match": f'"{doc.sha256}"'})
    assert cached.status_code == 304


def test_unreceived_protocol_page_explains_why(
    login: Login, vet_owner: User, technician: User
) -> None:
    protocol = make_protocol(vet=vet_owner)
    response = login(technician).get(
        reverse("labels:protocol-pdf", kwargs={"pk": protocol.pk})
    )
    assert response.status_code == 409
    assert "todavía no fue recibido" in response.content.decode()


def test_failed_job_stops_polling_and_shows_the_error(
    login: Login, vet_owner: User, technician: User
) -> None:
    protocol = make_protocol(vet=vet_owner, received_by=technician)
    client = login(technician)
    client.get(reverse("labels:protocol-pdf", kwargs={"pk": protocol.pk}))
    Job.objects.update(state=JobState.FAILED, error="Disco lleno")
    response = client.get(
        reverse("jobs:document-status", kwargs={"kind": "labels", "pk": protocol.pk})
    )
    assert response.status_code == 200
    assert "Disco lleno" in response.content.decode()


def test_batch_page_lists_received_protocols_only(
    login: Login, vet_owner: User, technician: User
) -> None:
    received = make_protocol(vet=vet_owner, received_by=technician, number="HP 26/777")
    make_protocol(vet=vet_owner, animal_name="Sin recibir")
    html = login(technician).get(reverse("labels:batch")).content.decode()
    assert "HP 26/777" in html
    assert f'value="{received.pk}"' in html
    assert "Sin recibir" not in html


def test_batch_without_selection_shows_the_error_and_starts_nothing(
    login: Login, technician: User
) -> None:
    response = login(technician).post(reverse("labels:batch"), {})
    assert response.status_code == 400
    assert "Seleccione al menos un protocolo" in response.content.decode()
    assert not Job.objects.exists()


def test_batch_post_starts_a_job_and_opens_its_page(
    login: Login, vet_owner: User, technician: User
) -> None:
    protocol = make_protocol(vet=vet_owner, received_by=technician)
    response = login(technician).post(
        reverse("labels:batch"), {"protocol_ids": [str(protocol.pk)]}
    )
    job = Job.objects.get(kind="labels.batch")
    assert response.status_code == 302
    assert response["Location"] == reverse("jobs:detail", kwargs={"pk": job.pk})
    assert job.params == {"protocol_ids": [protocol.pk]}


def test_batch_file_is_downloadable_by_its_requester_and_admins_only(
    login: Login, vet_owner: User, technician: User, admin: User
) -> None:
    from patolab.accounts.services import user_create
    from patolab.labels.documents import label_batch_build

    protocol = make_protocol(vet=vet_owner, received_by=technician)
    job = start_label_batch(protocol_ids=[protocol.pk], user=technician)
    batch, _items = label_batch_build(
        job_id=job.pk,
        protocol_ids=[protocol.pk],
        user_id=technician.pk,
        progress=lambda c, t: None,
    )
    assert batch is not None
    url = reverse("labels:batch-download", kwargs={"pk": batch.pk})
    assert login(technician).get(url).status_code == 200
    assert login(admin).get(url).status_code == 200
    colleague = user_create(
        username="otro", password="x-secreto-1", role="lab_staff", email="o@l.ex"
    )
    assert login(colleague).get(url).status_code == 404
    assert login(vet_owner).get(url).status_code == 403
