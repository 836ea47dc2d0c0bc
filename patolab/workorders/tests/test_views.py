from __future__ import annotations

import re

import pytest
from django.urls import reverse

from patolab.core.documents import document_build
from patolab.jobs.models import Job

from ..jobs import WORKORDER_DOCUMENT
from ..models import WorkOrder
from ..services import workorder_create
from .factories import make_protocol

pytestmark = pytest.mark.usefixtures("catalog")


def make_wo(vet_user):
    return workorder_create(
        veterinarian=vet_user.veterinarian,
        protocols=[make_protocol(vet_user)],
        tax_condition="consumidor_final",
        created_by=None,
    )


def form_data(vet_user, protocols, **extra):
    data = {
        "protocols": [p.pk for p in protocols],
        "auto_protocol_lines": "on",
        "tax_condition": "responsable_inscripto",
        "billing_name": "Veterinaria Norte SRL",
        "cuit": "20-12345678-6",
        "advance_payment": "",
        "notes": "",
        "lines-TOTAL_FORMS": "3",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "50",
    }
    for i in range(3):
        data.update(
            {
                f"lines-{i}-code": "",
                f"lines-{i}-quantity": "1",
                f"lines-{i}-discount_percent": "0",
            }
        )
    data.update(extra)
    return data


def create_url(vet_user):
    return reverse("workorders:create") + f"?veterinarian={vet_user.veterinarian.pk}"


def field_block(html: str, name: str) -> str:
    """The `<div class="field ...">` that holds input `name`."""
    match = re.search(
        r'<div class="field[^"]*">(?:(?!<div class="field).)*?name="'
        + name
        + r'".*?</div>',
        html,
        re.S,
    )
    assert match, f"field {name} not found"
    return match.group(0)


def test_create_page_lists_only_received_unbilled_protocols(
    login, technician, vet_owner, vet_other
):
    mine = make_protocol(vet_owner)
    submitted = make_protocol(vet_owner, status="submitted")
    other = make_protocol(vet_other)
    html = login(technician).get(create_url(vet_owner)).content.decode()
    assert mine.protocol_number in html
    assert submitted.temporary_code not in html
    assert other.protocol_number not in html


def test_staff_creates_a_work_order_from_the_form(login, technician, vet_owner):
    p = make_protocol(vet_owner)
    response = login(technician).post(
        create_url(vet_owner),
        form_data(
            vet_owner, [p], **{"lines-0-code": "ENV-01", "lines-0-quantity": "2"}
        ),
    )
    wo = WorkOrder.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("workorders:detail", args=[wo.pk])
    assert [line.code for line in wo.lines.all()] == ["HP-01", "ENV-01"]


def test_invalid_cuit_is_shown_next_to_the_cuit_field(login, technician, vet_owner):
    p = make_protocol(vet_owner)
    response = login(technician).post(
        create_url(vet_owner), form_data(vet_owner, [p], cuit="20-12345678-9")
    )
    assert response.status_code == 200
    block = field_block(response.content.decode(), "cuit")
    assert "has-error" in block
    assert "CUIT/CUIL inválido" in block
    assert not WorkOrder.objects.exists()


def test_negative_quantity_is_shown_next_to_the_line(login, technician, vet_owner):
    p = make_protocol(vet_owner)
    response = login(technician).post(
        create_url(vet_owner),
        form_data(
            vet_owner, [p], **{"lines-1-code": "ENV-01", "lines-1-quantity": "-3"}
        ),
    )
    html = response.content.decode()
    cell = re.search(
        r'<td class="line-cell has-error">.*?name="lines-1-quantity".*?</td>',
        html,
        re.S,
    )
    assert cell
    assert "cantidad" in cell.group(0).lower()
    assert not WorkOrder.objects.exists()


def test_vet_cannot_open_the_create_page(login, vet_owner):
    assert login(vet_owner).get(reverse("workorders:create")).status_code == 403


def test_other_vet_gets_404_on_detail_and_pdf(login, vet_owner, vet_other):
    wo = make_wo(vet_owner)
    client = login(vet_other)
    assert client.get(reverse("workorders:detail", args=[wo.pk])).status_code == 404
    assert client.get(reverse("workorders:pdf", args=[wo.pk])).status_code == 404
    assert (
        client.get(
            reverse("jobs:document-status", args=["workorder", wo.pk])
        ).status_code
        == 404
    )


def test_vet_list_shows_only_their_orders(login, vet_owner, vet_other):
    mine = make_wo(vet_owner)
    theirs = make_wo(vet_other)
    html = login(vet_owner).get(reverse("workorders:list")).content.decode()
    assert mine.number in html
    assert theirs.number not in html


def test_detail_without_pdf_shows_generating_with_a_poll(login, vet_owner):
    wo = make_wo(vet_owner)
    html = (
        login(vet_owner)
        .get(reverse("workorders:detail", args=[wo.pk]))
        .content.decode()
    )
    assert "Generando PDF…" in html
    assert (
        f'hx-get="{reverse("jobs:document-status", args=["workorder", wo.pk])}"' in html
    )
    assert 'hx-trigger="every 1s"' in html
    assert "segundos" not in html  # no "reload in a few seconds"
    assert Job.objects.filter(kind="workorder.pdf").count() == 1
    # The tab title is the number, and the payments card appears once.
    assert f"<title>{wo.number} · Patolab</title>" in html
    assert html.count('id="payments"') == 1


def test_detail_with_current_pdf_links_it_and_serves_with_etag(login, vet_owner):
    wo = make_wo(vet_owner)
    pdf = document_build(WORKORDER_DOCUMENT, wo)
    client = login(vet_owner)
    html = client.get(reverse("workorders:detail", args=[wo.pk])).content.decode()
    assert "Generando PDF" not in html
    assert reverse("workorders:pdf", args=[wo.pk]) in html
    response = client.get(reverse("workorders:pdf", args=[wo.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["ETag"] == f'"{pdf.sha256}"'
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    again = client.get(
        reverse("workorders:pdf", args=[wo.pk]),
        headers={"If-None-Match": f'"{pdf.sha256}"'},
    )
    assert again.status_code == 304


def test_home_shows_the_vet_panel(login, vet_owner):
    wo = make_wo(vet_owner)
    html = login(vet_owner).get(reverse("core:home")).content.decode()
    assert "Mis órdenes de trabajo" in html
    assert wo.number in html


def test_staff_edits_a_draft_and_cannot_after_issue(login, technician, vet_owner):
    wo = make_wo(vet_owner)
    client = login(technician)
    url = reverse("workorders:edit", args=[wo.pk])
    page = client.get(url).content.decode()
    assert 'value="HP-01" selected' in page
    line = wo.lines.get()
    data = {
        "tax_condition": "consumidor_final",
        "billing_name": "Ana Owner",
        "cuit": "",
        "advance_payment": "",
        "notes": "Editada",
        "lines-TOTAL_FORMS": "2",
        "lines-INITIAL_FORMS": "1",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "50",
        "lines-0-code": "HP-01",
        "lines-0-quantity": "1",
        "lines-0-discount_percent": "0",
        "lines-0-protocol_id": str(line.protocol_id),
        "lines-1-code": "ENV-01",
        "lines-1-quantity": "1",
        "lines-1-discount_percent": "0",
    }
    assert client.post(url, data).status_code == 302
    wo.refresh_from_db()
    assert str(wo.total) == "71500.00"
    assert wo.notes == "Editada"

    issue = client.post(reverse("workorders:issue", args=[wo.pk]))
    assert issue.status_code == 302
    wo.refresh_from_db()
    assert wo.status == "issued"
    # The issued order's edit page says so instead of offering a form.
    page = client.get(url).content.decode()
    assert f"La orden {wo.number} fue emitida el" in page
    assert "ya no se puede modificar" in page
    assert 'name="notes"' not in page
    response = client.post(url, {**data, "notes": "tarde"})
    assert "ya no se puede modificar" in response.content.decode()
    wo.refresh_from_db()
    assert wo.notes == "Editada"


def test_vet_cannot_issue_or_change_payment(login, vet_owner):
    wo = make_wo(vet_owner)
    client = login(vet_owner)
    assert client.post(reverse("workorders:issue", args=[wo.pk])).status_code == 403
    response = client.post(
        reverse("workorders:payment", args=[wo.pk]), {"payment_status": "paid"}
    )
    assert response.status_code == 403
    wo.refresh_from_db()
    assert (wo.status, wo.payment_status) == ("draft", "pending")


def test_protocol_billed_meanwhile_is_shown_next_to_the_protocols(
    login, technician, vet_owner
):
    p = make_protocol(vet_owner)
    client = login(technician)
    page = client.get(create_url(vet_owner))  # the form lists p
    assert p.protocol_number in page.content.decode()
    workorder_create(
        veterinarian=vet_owner.veterinarian,
        protocols=[p],
        tax_condition="consumidor_final",
        created_by=None,
    )
    response = client.post(create_url(vet_owner), form_data(vet_owner, [p]))
    assert response.status_code == 200
    html = response.content.decode()
    block = re.search(
        r'<fieldset class="protocol-pick has-error" id="protocols">.*?'
        r'<div class="field-error" id="protocols_error"><p>([^<]*)</p>',
        html,
        re.S,
    )
    assert block, "no error next to the protocols field"
    assert p.code in block.group(1)
    summary = html[html.index('class="error-summary"') :]
    assert '<a href="#protocols">' in summary
    assert WorkOrder.objects.count() == 1
