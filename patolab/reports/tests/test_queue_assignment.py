"""The histopathologists' queue: numbers link to the protocol, only overdue
rows are marked, filters "míos / sin asignar / todos" and case assignment."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from conftest import PASSWORD
from patolab.accounts.models import Role
from patolab.accounts.services import user_create
from patolab.core.errors import Conflict, NotAllowed, ValidationFailed
from patolab.protocols.models import Protocol
from patolab.protocols.tests.factories import make_received
from patolab.reports.models import CaseAssignment
from patolab.reports.services import (
    case_assign,
    report_create,
    report_finalize_execute,
    report_request_finalize,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def colleague(db):
    return user_create(
        username="colega",
        password=PASSWORD,
        role=Role.HISTOPATHOLOGIST,
        email="colega@lab.example",
        first_name="Carlos",
        last_name="Colega",
    )


def rows(html: str) -> list[str]:
    body = html[html.index("<tbody>") : html.index("</tbody>")]
    return [re.sub(r"\s+", " ", r) for r in body.split("<tr")[1:]]


def test_assign_reassign_and_unassign(pathologist, colleague, vet_owner, technician):
    protocol = make_received(vet_owner, technician)
    case_assign(protocol=protocol, pathologist=pathologist, user=pathologist)
    assert CaseAssignment.objects.get(protocol=protocol).pathologist == pathologist
    case_assign(protocol=protocol, pathologist=colleague, user=pathologist)
    row = CaseAssignment.objects.get(protocol=protocol)
    assert (row.pathologist, row.assigned_by) == (colleague, pathologist)
    case_assign(protocol=protocol, pathologist=None, user=colleague)
    assert not CaseAssignment.objects.filter(protocol=protocol).exists()


def test_only_reporters_assign_and_only_to_histopathologists(
    pathologist, technician, vet_owner, admin
):
    protocol = make_received(vet_owner, technician)
    with pytest.raises(NotAllowed):
        case_assign(protocol=protocol, pathologist=pathologist, user=technician)
    with pytest.raises(ValidationFailed):
        case_assign(protocol=protocol, pathologist=technician, user=pathologist)
    case_assign(protocol=protocol, pathologist=pathologist, user=admin)
    assert CaseAssignment.objects.filter(protocol=protocol).count() == 1


def test_a_finished_case_cannot_be_assigned(pathologist, vet_owner, technician):
    protocol = make_received(vet_owner, technician)
    report = report_create(
        protocol=protocol, histopathologist=pathologist, diagnosis="X"
    )
    report_request_finalize(report=report, user=pathologist)
    report_finalize_execute(report_id=report.pk, user_id=pathologist.pk)
    with pytest.raises(Conflict):
        case_assign(protocol=protocol, pathologist=pathologist, user=pathologist)


def test_starting_a_report_takes_an_unassigned_case(
    pathologist, colleague, vet_owner, technician
):
    free = make_received(vet_owner, technician)
    taken = make_received(vet_owner, technician)
    case_assign(protocol=taken, pathologist=colleague, user=colleague)
    report_create(protocol=free, histopathologist=pathologist)
    report_create(protocol=taken, histopathologist=pathologist)
    assert CaseAssignment.objects.get(protocol=free).pathologist == pathologist
    assert CaseAssignment.objects.get(protocol=taken).pathologist == colleague


def test_queue_filters_mine_unassigned_all(
    login, pathologist, colleague, vet_owner, technician
):
    mine = make_received(vet_owner, technician, animal_name="Mío")
    theirs = make_received(vet_owner, technician, animal_name="Ajeno")
    nobody = make_received(vet_owner, technician, animal_name="Huérfano")
    case_assign(protocol=mine, pathologist=pathologist, user=pathologist)
    case_assign(protocol=theirs, pathologist=colleague, user=pathologist)
    client = login(pathologist)

    def names(scope: str) -> set[str]:
        response = client.get(reverse("reports:queue"), {"assigned": scope})
        return {item.protocol.animal_name for item in response.context["items"]}

    assert names("mine") == {"Mío"}
    assert names("unassigned") == {"Huérfano"}
    assert names("all") == {"Mío", "Ajeno", "Huérfano"}
    assert names("nonsense") == {"Mío", "Ajeno", "Huérfano"}
    html = client.get(reverse("reports:queue"), {"assigned": "mine"}).content.decode()
    assert 'aria-current="page" class="current">Míos<' in html
    assert nobody.pk  # listed above under "unassigned"


def test_queue_numbers_link_to_the_protocol_and_only_overdue_rows_are_marked(
    login, pathologist, vet_owner, technician
):
    late = make_received(vet_owner, technician, animal_name="Tarde")
    make_received(vet_owner, technician, animal_name="Atiempo")
    Protocol.objects.filter(pk=late.pk).update(
        received_at=timezone.now() - timedelta(days=9)
    )
    html = login(pathologist).get(reverse("reports:queue")).content.decode()
    late_row, fresh_row = rows(html)
    assert "Tarde" in late_row
    assert "Atiempo" in fresh_row
    url = reverse("protocols:protocol-detail", kwargs={"pk": late.pk})
    assert (
        f'<td class="code"><a href="{url}"><strong>{late.protocol_number}' in late_row
    )
    assert 'class="overdue"' in late_row
    assert "atrasado" in late_row
    assert "overdue" not in fresh_row
    assert "atrasado" not in fresh_row


def test_assign_from_the_queue_keeps_the_filters(
    login, pathologist, colleague, vet_owner, technician
):
    protocol = make_received(vet_owner, technician)
    client = login(pathologist)
    back = reverse("reports:queue") + "?assigned=unassigned&q=Luna"
    url = reverse("reports:assign", kwargs={"protocol_pk": protocol.pk})
    response = client.post(url, {"pathologist": colleague.pk, "next": back})
    assert response.status_code == 302
    assert response["Location"] == back
    assert CaseAssignment.objects.get(protocol=protocol).pathologist == colleague
    # Self-assign ("Tomar") wins over the select.
    client.post(url, {"pathologist": colleague.pk, "take": "1", "next": back})
    assert CaseAssignment.objects.get(protocol=protocol).pathologist == pathologist
    page = client.get(back).content.decode()
    assert "Carlos Colega" in page  # the choices list other pathologists
    # An off-site "next" is ignored.
    response = client.post(url, {"take": "1", "next": "https://evil.example/"})
    assert response["Location"] == reverse("reports:queue")


def test_staff_cannot_assign(login, technician, pathologist, vet_owner):
    protocol = make_received(vet_owner, technician)
    url = reverse("reports:assign", kwargs={"protocol_pk": protocol.pk})
    assert (
        login(technician).post(url, {"pathologist": pathologist.pk}).status_code == 403
    )
    assert not CaseAssignment.objects.exists()


def test_home_panel_counts_my_cases(login, pathologist, vet_owner, technician):
    protocol = make_received(vet_owner, technician)
    case_assign(protocol=protocol, pathologist=pathologist, user=pathologist)
    html = login(pathologist).get("/").content.decode()
    assert "1 caso asignado a usted" in html
