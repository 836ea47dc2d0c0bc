"""Issue 10 "Staff and pathologists", in headless Chromium at desktop and phone
sizes: the queue's filters and case assignment (take, reassign), overdue rows
marked, numbers linking to the protocol; the staff dashboard's counts and the
protocol list filtered by veterinarian and sorted by number."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from conftest import PASSWORD
from patolab.accounts.models import Role
from patolab.accounts.services import user_create
from patolab.protocols.models import Protocol
from patolab.protocols.tests.factories import make_protocol, make_received
from patolab.reports.models import CaseAssignment
from tests.e2e.support import (  # noqa: F401  (sized_page is the `page` fixture)
    assert_accessible,
    body_text,
    log_in,
    overflow,
    shot,
    sized_page,
)

pytestmark = pytest.mark.e2e


def sort_by(page, value: str, label: str) -> None:
    if page.size_name == "phone":
        page.get_by_label("Ordenar por").select_option(label=label)
        page.get_by_role("button", name="Filtrar").click()
    else:
        page.get_by_role("link", name=re.compile("^Número")).click()
    page.wait_for_url(re.compile(rf".*sort={re.escape(value)}(&.*)?$"))


def test_pathologist_filters_takes_and_reassigns_cases(
    page, live_server, vet_owner, technician, pathologist
):
    base = live_server.url
    colleague = user_create(
        username="colega",
        password=PASSWORD,
        role=Role.HISTOPATHOLOGIST,
        first_name="Carlos",
        last_name="Colega",
    )
    late = make_received(vet_owner, technician, animal_name="Tarde")
    fresh = make_received(vet_owner, technician, animal_name="Fresco", kind="cytology")
    Protocol.objects.filter(pk=late.pk).update(
        received_at=timezone.now() - timedelta(days=10)
    )

    log_in(page, base, pathologist.username)
    page.goto(f"{base}/informes/")
    rows = page.locator("table.queue tbody tr")
    assert rows.count() == 2
    late_row = rows.filter(has_text="Tarde")
    fresh_row = rows.filter(has_text="Fresco")
    assert late_row.locator(".badge.late").inner_text().lower() == "atrasado"
    assert fresh_row.locator(".badge.late").count() == 0
    # The number is one line and opens the protocol.
    number = late_row.get_by_role("link", name=late.protocol_number)
    box = number.bounding_box()
    assert box["height"] < 30
    assert overflow(page) == 0
    assert_accessible(page)
    shot(page, "queue-1-all")

    # "Sin asignar" → take the late case → it is in "Míos".
    page.get_by_role("link", name="Sin asignar").click()
    page.wait_for_url(re.compile(r".*assigned=unassigned.*"))
    page.locator("table.queue tbody tr", has_text="Tarde").get_by_role(
        "button", name="Tomar"
    ).click()
    page.wait_for_url(re.compile(r".*assigned=unassigned.*"))
    assert "asignado a Paula Patóloga" in body_text(page)
    assert "Tarde" not in page.locator("table.queue").inner_text()
    page.get_by_role("link", name="Míos").click()
    page.wait_for_url(re.compile(r".*assigned=mine.*"))
    assert page.locator("table.queue tbody tr").count() == 1
    assert "Tarde" in page.locator("table.queue").inner_text()
    shot(page, "queue-2-mine")

    # Reassign it to a colleague with the row's own labelled select.
    page.get_by_label(f"Asignar {late.protocol_number} a").select_option(
        label="Carlos Colega"
    )
    page.locator("table.queue tbody tr", has_text="Tarde").get_by_role(
        "button", name="Asignar", exact=True
    ).click()
    page.wait_for_url(re.compile(r".*assigned=mine.*"))
    assert CaseAssignment.objects.get(protocol=late).pathologist == colleague
    assert "No tiene casos asignados" in body_text(page)

    page.get_by_role("link", name="Todos").click()
    page.locator("table.queue").get_by_role("link", name=fresh.protocol_number).click()
    page.wait_for_url(re.compile(rf".*/protocolos/{fresh.pk}/$"))


def test_staff_dashboard_and_protocol_list(
    page, live_server, vet_owner, vet_other, technician
):
    base = live_server.url
    make_protocol(vet_owner, animal_name="Pendiente")
    a = make_received(vet_owner, technician, animal_name="Uno")
    b = make_received(vet_other, technician, animal_name="Dos")
    c = make_received(vet_owner, technician, animal_name="Tres", kind="cytology")
    Protocol.objects.filter(pk=c.pk).update(
        received_at=timezone.now() - timedelta(days=5)
    )

    log_in(page, base, technician.username)
    counts = page.locator("table.status-counts")
    assert re.search(r"Recibido\s+3", counts.inner_text())
    assert re.search(r"Enviado\s+1", counts.inner_text())
    assert overflow(page) == 0
    assert_accessible(page)
    shot(page, "queue-3-staff-home")
    page.get_by_role("link", name="1 protocolo atrasado").click()
    assert [t.strip() for t in page.locator("td.code a").all_inner_texts()] == [
        c.protocol_number
    ]

    page.goto(f"{base}/protocolos/")
    page.get_by_label("Veterinario/a").select_option(label="Ana Owner")
    page.get_by_role("button", name="Filtrar").click()
    page.wait_for_url(re.compile(r".*veterinarian=.*"))
    text = page.locator("table").inner_text()
    assert "Uno" in text
    assert "Dos" not in text
    # Sort by number (ascending, then descending): from the column header on
    # a desktop; on a phone the rows are cards, so from "Ordenar por".
    sort_by(page, "number", "Número: menor primero")
    shown = [t.strip() for t in page.locator("td.code a").all_inner_texts()]
    assert shown[:2] == [c.protocol_number, a.protocol_number]  # CT before HP
    sort_by(page, "-number", "Número: mayor primero")
    shown = [t.strip() for t in page.locator("td.code a").all_inner_texts()]
    assert shown[0] == a.protocol_number
    assert "veterinarian=" in page.url  # the filter survives sorting
    assert overflow(page) == 0
    assert_accessible(page)
    shot(page, "queue-4-staff-list")
    assert b.protocol_number not in page.locator("table").inner_text()
