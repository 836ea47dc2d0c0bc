"""Issue 10 work-order pages: the new-order table (date, type, catalog price,
select-all), add and remove lines, every error summarized at the top, the issued
order's edit page, and payments (amount + date) from which the payment status
follows."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.urls import reverse
from django.utils import timezone

from patolab.core.errors import InvalidTransition, ValidationFailed

from ..models import PaymentStatus, WorkOrder
from ..services import (
    workorder_balance,
    workorder_create,
    workorder_issue,
    workorder_payment_record,
)
from .factories import make_protocol

pytestmark = pytest.mark.usefixtures("catalog")


def issued(vet_user, **extra):
    wo = workorder_create(
        veterinarian=vet_user.veterinarian,
        protocols=[make_protocol(vet_user)],
        tax_condition="consumidor_final",
        created_by=None,
        **extra,
    )
    return workorder_issue(work_order=wo)


def create_url(vet_user):
    return reverse("workorders:create") + f"?veterinarian={vet_user.veterinarian.pk}"


def post_data(protocols, lines=(), total=None, **extra):
    rows = list(lines) or [("", "1", "0")]
    data = {
        "protocols": [p.pk for p in protocols],
        "auto_protocol_lines": "on",
        "tax_condition": "consumidor_final",
        "billing_name": "",
        "cuit": "",
        "advance_payment": "",
        "notes": "",
        "lines-TOTAL_FORMS": str(total or len(rows)),
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "50",
    }
    for i, row in enumerate(rows):
        code, qty, disc, *delete = row
        data.update(
            {
                f"lines-{i}-code": code,
                f"lines-{i}-quantity": qty,
                f"lines-{i}-discount_percent": disc,
            }
        )
        if delete:
            data[f"lines-{i}-DELETE"] = "on"
    data.update(extra)
    return data


# ---------------------------------------------------------------- payments
def test_payments_make_the_status_partial_then_paid(vet_owner, technician):
    wo = issued(vet_owner)  # HP-01: 62000.00
    assert wo.payment_status == PaymentStatus.PENDING
    today = timezone.localdate()
    workorder_payment_record(
        work_order=wo,
        amount="20000",
        paid_on=today - timedelta(days=2),
        user=technician,
    )
    wo.refresh_from_db()
    assert wo.payment_status == PaymentStatus.PARTIAL
    assert workorder_balance(work_order=wo) == D("42000.00")
    workorder_payment_record(
        work_order=wo, amount="42000,00", paid_on=today.isoformat()
    )
    wo.refresh_from_db()
    assert wo.payment_status == PaymentStatus.PAID
    assert workorder_balance(work_order=wo) == D("0.00")
    assert [p.amount for p in wo.payments.all()] == [D("20000.00"), D("42000.00")]


def test_the_advance_payment_counts_towards_the_balance(vet_owner):
    wo = issued(vet_owner, advance_payment="12000")
    assert workorder_balance(work_order=wo) == D("50000.00")
    workorder_payment_record(
        work_order=wo, amount="50000", paid_on=timezone.localdate()
    )
    wo.refresh_from_db()
    assert wo.payment_status == PaymentStatus.PAID


@pytest.mark.parametrize(
    ("amount", "paid_on", "field"),
    [
        ("", "today", "amount"),
        ("0", "today", "amount"),
        ("-5", "today", "amount"),
        ("abc", "today", "amount"),
        ("10.001", "today", "amount"),
        ("62000.01", "today", "amount"),  # more than the balance
        ("100", "", "paid_on"),
        ("100", "2026-13-40", "paid_on"),
        ("100", "tomorrow", "paid_on"),
    ],
)
def test_bad_payments_are_refused_and_change_nothing(vet_owner, amount, paid_on, field):
    wo = issued(vet_owner)
    day = {
        "today": timezone.localdate(),
        "tomorrow": timezone.localdate() + timedelta(days=1),
    }
    with pytest.raises(ValidationFailed) as caught:
        workorder_payment_record(
            work_order=wo, amount=amount, paid_on=day.get(paid_on, paid_on)
        )
    assert field in caught.value.errors
    wo.refresh_from_db()
    assert wo.payments.count() == 0
    assert wo.payment_status == PaymentStatus.PENDING


def test_a_draft_takes_no_payments(vet_owner):
    wo = workorder_create(
        veterinarian=vet_owner.veterinarian,
        protocols=[make_protocol(vet_owner)],
        tax_condition="consumidor_final",
        created_by=None,
    )
    with pytest.raises(InvalidTransition):
        workorder_payment_record(
            work_order=wo, amount="10", paid_on=timezone.localdate()
        )


def test_payment_page_records_amount_and_date(login, technician, vet_owner):
    wo = issued(vet_owner)
    client = login(technician)
    url = reverse("workorders:payment", args=[wo.pk])
    today = timezone.localdate().isoformat()
    response = client.post(url, {"amount": "30000", "paid_on": today})
    assert response.status_code == 302
    page = re.sub(r"\s+", " ", client.get(response["Location"]).content.decode())
    assert "Pago parcial" in page
    assert "$ 32.000,00" in page  # the balance
    assert "$ 30.000,00" in page  # the payment
    bad = client.post(url, {"amount": "99999999", "paid_on": today})
    assert bad.status_code == 400
    html = bad.content.decode()
    assert "supera el saldo" in html
    assert 'id="payment_amount_error"' in html
    assert wo.payments.count() == 1


def test_vet_sees_payments_but_cannot_record_them(login, vet_owner):
    wo = issued(vet_owner)
    workorder_payment_record(work_order=wo, amount="1000", paid_on=timezone.localdate())
    client = login(vet_owner)
    page = client.get(reverse("workorders:detail", args=[wo.pk])).content.decode()
    assert "$ 1.000,00" in page
    assert "Registrar pago" not in page
    response = client.post(
        reverse("workorders:payment", args=[wo.pk]),
        {"amount": "1", "paid_on": timezone.localdate().isoformat()},
    )
    assert response.status_code == 403
    assert wo.payments.count() == 1


def test_api_records_a_payment(api, technician, vet_owner):
    wo = issued(vet_owner)
    client = api(technician)
    response = client.post(
        f"/api/v1/workorders/{wo.pk}/payment",
        {"amount": "62000.00", "paid_on": timezone.localdate().isoformat()},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["payment_status"] == "paid"
    assert body["balance"] == "0.00"
    assert body["payments"] == [
        {"amount": "62000.00", "paid_on": timezone.localdate().isoformat()}
    ]
    bad = client.post(f"/api/v1/workorders/{wo.pk}/payment", {"amount": "5"})
    assert bad.status_code == 400
    assert "paid_on" in bad.json()["errors"]


# ---------------------------------------------------------------- pages
def test_new_order_table_shows_date_type_and_catalog_price(
    login, technician, vet_owner
):
    histo = make_protocol(vet_owner)
    cyto = make_protocol(vet_owner, analysis_type="cytology")
    html = re.sub(
        r"\s+", " ", login(technician).get(create_url(vet_owner)).content.decode()
    )
    table = html[html.index('<table class="table billable') : html.index("</table>")]
    for protocol, price in ((histo, "$ 62.000,00"), (cyto, "$ 38.500,00")):
        row = table[table.index(f'id="protocol-{protocol.pk}"') :].split("</tr>")[0]
        assert protocol.received_at.strftime("%d/%m/%Y") in row
        assert protocol.get_analysis_type_display() in row
        assert price in row
    assert f'<label for="protocol-{histo.pk}">' in table
    assert 'data-select-all="protocols"' in html
    assert "js/workorders.js" in html


def test_add_line_keeps_everything_and_saves_nothing(login, technician, vet_owner):
    p = make_protocol(vet_owner)
    client = login(technician)
    data = post_data(
        [p], lines=[("ENV-01", "2", "0")], notes="Guardar esto", add_line="1"
    )
    response = client.post(create_url(vet_owner), data)
    assert response.status_code == 200
    assert WorkOrder.objects.count() == 0
    html = response.content.decode()
    assert 'name="lines-TOTAL_FORMS" value="2"' in html
    assert 'name="lines-1-code"' in html
    assert "Guardar esto" in html
    assert f'value="{p.pk}" id="protocol-{p.pk}" checked' in html
    assert "error-summary" not in html


def test_removed_lines_are_not_billed(login, technician, vet_owner):
    p = make_protocol(vet_owner)
    data = post_data([p], lines=[("ENV-01", "1", "0"), ("IHQ-01", "1", "0", "DELETE")])
    response = login(technician).post(create_url(vet_owner), data)
    assert response.status_code == 302
    wo = WorkOrder.objects.get()
    assert sorted(line.code for line in wo.lines.all()) == ["ENV-01", "HP-01"]


def test_every_error_is_summarized_at_the_top(login, technician, vet_owner):
    make_protocol(vet_owner)
    data = post_data(
        [],
        lines=[("ENV-01", "0", "150")],
        tax_condition="responsable_inscripto",
        cuit="20-12345678-0",
    )
    response = login(technician).post(create_url(vet_owner), data)
    assert response.status_code == 200
    assert WorkOrder.objects.count() == 0
    html = re.sub(r"\s+", " ", response.content.decode())
    summary = html[
        html.index('class="error-summary"') : html.index(
            "</div>", html.index('class="error-summary"')
        )
    ]
    assert summary.index("error-summary") < html.index("<form")
    assert "autofocus" in summary
    assert '<a href="#protocols">' in summary  # no protocol chosen
    assert "Seleccione al menos un protocolo." in summary
    assert '<a href="#id_cuit">' in summary
    assert '<a href="#id_lines-0-quantity">Línea 1: la cantidad' in summary
    assert '<a href="#id_lines-0-discount_percent">Línea 1: el descuento' in summary
    assert "Hay 4 problemas" in summary


def test_issued_order_edit_page_says_it_is_issued(login, technician, vet_owner):
    wo = issued(vet_owner)
    page = (
        login(technician).get(reverse("workorders:edit", args=[wo.pk])).content.decode()
    )
    assert "fue emitida el" in page
    assert 'name="notes"' not in page
    assert 'name="lines-TOTAL_FORMS"' not in page
    assert reverse("workorders:detail", args=[wo.pk]) in page
