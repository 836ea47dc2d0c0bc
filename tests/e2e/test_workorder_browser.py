"""Issue 10 work orders in headless Chromium at desktop and phone sizes: staff
pick a veterinarian, see the unbilled protocols with date, type and catalog
price, select all, add and remove lines, get every error summarized at the top,
create and issue the order, find its edit page saying it is issued, and record
payments (amount and date) until the order is paid."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from patolab.workorders.models import PaymentStatus, WorkOrder
from patolab.workorders.tests.factories import make_catalog, make_protocol
from tests.e2e.support import (  # noqa: F401  (sized_page is the `page` fixture)
    assert_accessible,
    body_text,
    log_in,
    overflow,
    shot,
    sized_page,
)

pytestmark = pytest.mark.e2e


def test_staff_bill_issue_and_collect_a_work_order(
    page, live_server, vet_owner, technician
):
    base = live_server.url
    make_catalog()
    histo = make_protocol(vet_owner)
    cyto = make_protocol(vet_owner, analysis_type="cytology")

    log_in(page, base, technician.username)
    page.goto(f"{base}/ordenes/nueva/")
    page.get_by_label("Veterinario/a").select_option(label="Ana Owner")
    page.get_by_role("button", name="Ver protocolos").click()
    table = page.locator("table.billable")
    histo_row = table.locator("tr", has_text=histo.protocol_number)
    assert "$ 62.000,00" in histo_row.inner_text()
    assert "Histopatología" in histo_row.inner_text()
    assert histo.received_at.strftime("%d/%m/%Y") in histo_row.inner_text()
    assert (
        "$ 38.500,00" in table.locator("tr", has_text=cyto.protocol_number).inner_text()
    )
    # Select all (JavaScript), then add one line and mark it removed.
    page.get_by_label("Seleccionar todos").check()
    assert page.locator("input[name=protocols]:checked").count() == 2
    page.get_by_label("Ítem del tarifario · línea 1").select_option(value="ENV-01")
    page.get_by_role("button", name="Agregar línea").click()
    page.get_by_label("Ítem del tarifario · línea 2").select_option(value="IHQ-01")
    page.get_by_label("Quitar la línea 2").check()
    # A mistake: responsable inscripto without CUIT, and a bad discount.
    page.get_by_label("Condición frente al IVA").select_option(
        value="responsable_inscripto"
    )
    page.get_by_label("Descuento % · línea 1").fill("150")
    page.get_by_role("button", name="Crear orden").click()
    summary = page.locator(".error-summary")
    assert summary.is_visible()
    assert "Hay 2 problemas" in summary.inner_text()
    assert "CUIT" in summary.inner_text()
    assert "Línea 1" in summary.inner_text()
    focused = page.evaluate("() => document.activeElement.className")
    assert "error-summary" in focused
    assert page.locator("input[name=protocols]:checked").count() == 2  # kept
    shot(page, "wo-1-errors")
    assert overflow(page) == 0
    assert_accessible(page)
    assert WorkOrder.objects.count() == 0

    page.get_by_label("CUIT/CUIL").fill("20-12345678-6")
    page.get_by_label("Descuento % · línea 1").fill("0")
    page.get_by_role("button", name="Crear orden").click()
    page.wait_for_url(re.compile(r".*/ordenes/\d+/$"))
    wo = WorkOrder.objects.get()
    assert sorted(line.code for line in wo.lines.all()) == ["CIT-01", "ENV-01", "HP-01"]
    assert str(wo.total) == "110000.00"
    assert overflow(page) == 0
    shot(page, "wo-2-draft")

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Emitir").click()
    page.wait_for_load_state()
    assert "Orden emitida." in body_text(page)
    page.goto(f"{base}/ordenes/{wo.pk}/editar/")
    assert "fue emitida el" in body_text(page)
    assert page.locator("textarea[name=notes]").count() == 0
    assert_accessible(page)
    shot(page, "wo-3-issued-edit")

    page.goto(f"{base}/ordenes/{wo.pk}/")
    today = timezone.localdate().isoformat()
    page.get_by_label("Importe").fill("10000")
    page.get_by_label("Fecha de pago").fill(today)
    page.get_by_role("button", name="Registrar pago").click()
    page.wait_for_url(re.compile(rf".*/ordenes/{wo.pk}/$"))
    payments = page.locator("#payments").inner_text()
    assert "Pago parcial" in payments
    assert "$ 100.000,00" in payments  # the balance
    page.get_by_label("Importe").fill("100000")
    page.get_by_label("Fecha de pago").fill(today)
    page.get_by_role("button", name="Registrar pago").click()
    page.wait_for_url(re.compile(rf".*/ordenes/{wo.pk}/$"))
    wo.refresh_from_db()
    assert wo.payment_status == PaymentStatus.PAID
    assert "Pagada" in page.locator("#payments").inner_text()
    assert page.get_by_role("button", name="Registrar pago").count() == 0
    assert overflow(page) == 0
    assert_accessible(page)
    shot(page, "wo-4-paid")
