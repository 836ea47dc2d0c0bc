"""Exports end to end: real worker over the real broker, PostgreSQL, storage,
SMTP; files read back with openpyxl and csv."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone
from openpyxl import load_workbook

from patolab.accounts.models import Role
from patolab.accounts.services import user_create
from patolab.exports.models import Export
from patolab.exports.tasks import exports_cleanup
from patolab.jobs.models import Job
from patolab.protocols.models import Protocol
from patolab.reports.models import Report
from patolab.workorders.models import WorkOrder, WorkOrderProtocol

pytestmark = pytest.mark.integration
TZ = ZoneInfo("America/Argentina/Buenos_Aires")
SPECIES = ["Canino", "Felino", "Equino", "Aviar"]


def seed_protocols(vet_user, pathologist, n: int) -> None:
    """n protocols straight into the table: every third received, every sixth
    with a report, every twelfth on a work order; accents everywhere."""
    base = datetime(2026, 3, 1, 9, 0, tzinfo=TZ)
    Protocol.objects.bulk_create(
        Protocol(
            analysis_type="cytology" if i % 2 else "histopathology",
            status="received" if i % 3 == 0 else "submitted",
            temporary_code=f"TMP-X-{i:06d}",
            protocol_number=f"HP 26/{i:05d}" if i % 3 == 0 else None,
            veterinarian=vet_user.veterinarian,
            species=SPECIES[i % 4],
            breed="Ñandú criollo" if i % 5 == 0 else "",
            sex="female",
            age=f"{i % 15} años",
            animal_name=f"Pichón {i}",
            owner_name="José Pérez Núñez",
            sampling_date=date(2026, 2, 1) + timedelta(days=i % 20),
            submitted_at=base + timedelta(minutes=i),
            received_at=base + timedelta(minutes=i, hours=5) if i % 3 == 0 else None,
        )
        for i in range(n)
    )
    received = list(Protocol.objects.filter(status="received").order_by("pk"))
    Report.objects.bulk_create(
        Report(
            protocol=p,
            histopathologist=pathologist,
            status="draft",
            diagnosis=f"Carcinoma de células escamosas n.º {p.pk}",
        )
        for p in received[::2]
    )
    for k, p in enumerate(received[::4]):
        wo = WorkOrder.objects.create(
            number=f"OT-2026-{k:04d}",
            veterinarian=vet_user.veterinarian,
            billing_name="Clínica Ñandú",
            tax_condition="consumidor_final",
            total=Decimal("62000.00"),
        )
        WorkOrderProtocol.objects.create(work_order=wo, protocol=p)


def finished(wait, job_id):
    return wait(
        lambda: Job.objects.filter(
            pk=job_id, state__in=["succeeded", "failed"]
        ).first(),
        timeout=120,
    )


def download(client, url) -> bytes:
    response = client.get(url)
    assert response.status_code == 200, response.content
    return b"".join(response.streaming_content)


def test_xlsx_export_of_5000_protocols_matches_the_database_row_for_row(
    celery_worker, api, admin, vet_owner, pathologist, wait
):
    seed_protocols(vet_owner, pathologist, 5000)
    client = api(admin)
    response = client.post("/api/v1/exports", {"format": "xlsx"})
    assert response.status_code == 202
    job = finished(wait, response.json()["id"])
    assert job.state == "succeeded", job.error
    assert job.result["rows"] == 5000
    assert (job.progress_current, job.progress_total) == (5000, 5000)

    wb = load_workbook(io.BytesIO(download(client, job.result["file_url"])))
    ws = wb.active
    rows = list(ws.iter_rows(values_only=True))
    header, data = rows[0], rows[1:]
    assert len(data) == 5000
    col = {name: i for i, name in enumerate(header)}
    expected = (
        Protocol.objects.select_related("veterinarian").order_by(
            "-submitted_at", "-id"
        )  # the list's order
    )
    diagnoses = dict(Report.objects.values_list("protocol_id", "diagnosis"))
    work_orders = dict(
        WorkOrderProtocol.objects.values_list("protocol_id", "work_order__number")
    )
    for row, p in zip(data, expected, strict=True):
        assert row[col["Código temporal"]] == p.temporary_code
        assert row[col["Número"]] == p.protocol_number
        assert row[col["Animal"]] == p.animal_name
        assert row[col["Especie"]] == p.species
        assert row[col["Raza"]] == (p.breed or None)
        assert row[col["Veterinario/a"]] == p.veterinarian.full_name
        assert row[col["Toma de muestra"]] == datetime.combine(
            p.sampling_date, datetime.min.time()
        )
        assert row[col["Enviado"]] == p.submitted_at.astimezone(TZ).replace(tzinfo=None)
        received = row[col["Recibido"]]
        if p.received_at:
            assert received == p.received_at.astimezone(TZ).replace(tzinfo=None)
            assert row[col["Estado"]] == "Recibido"
        else:
            assert received is None
            assert row[col["Estado"]] == "Enviado"
        assert row[col["Diagnóstico"]] == diagnoses.get(p.pk)
        assert row[col["Orden de trabajo"]] == work_orders.get(p.pk)
    export = Export.objects.get(job_id=job.pk)
    assert export.rows == 5000
    assert export.format == "xlsx"


def test_csv_export_from_the_protocol_list_keeps_its_filters_and_accents(
    celery_worker, login, technician, vet_owner, pathologist, wait
):
    seed_protocols(vet_owner, pathologist, 300)
    client = login(technician)
    response = client.post(
        "/exportaciones/nueva/",
        {
            "dataset": "protocols",
            "format": "csv;",
            "status": "received",
            "q": "Pichón",
            "page": "3",
            "next": "/protocolos/?status=received",
        },
    )
    assert response.status_code == 302
    job = Job.objects.get(kind="exports.generate")
    assert response["Location"] == f"/trabajos/{job.pk}/"
    job = finished(wait, job.pk)
    assert job.state == "succeeded", job.error
    data = download(client, job.result["file_url"])
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert len(rows) - 1 == Protocol.objects.filter(status="received").count() == 100
    assert {r[3] for r in rows[1:]} == {"Recibido"}
    assert "Ñandú criollo" in {r[8] for r in rows[1:]}
    assert rows[1][12] == "José Pérez Núñez"


def test_bad_filters_from_a_list_show_a_spanish_error_and_export_nothing(
    login, technician
):
    response = login(technician).post(
        "/exportaciones/nueva/",
        {"dataset": "protocols", "format": "xlsx", "received_from": "2026-02-31",
         "next": "/protocolos/"},
        follow=True,
    )  # fmt: skip
    assert "Filtros inválidos" in response.content.decode()
    assert not Job.objects.exists()


def test_workorder_export_has_amounts_as_numbers_for_accounting(
    celery_worker, api, admin, vet_owner, wait
):
    WorkOrder.objects.create(
        number="OT-2026-0001",
        veterinarian=vet_owner.veterinarian,
        billing_name="Clínica Ñandú SRL",
        cuit="30-70000000-8",
        tax_condition="responsable_inscripto",
        status="issued",
        total=Decimal("121000.00"),
        tax_total=Decimal("21000.00"),
        advance_payment=Decimal("1000.00"),
        issued_at=timezone.now(),
    )
    client = api(admin)
    job_id = client.post(
        "/api/v1/exports",
        {"format": "xlsx", "dataset": "workorders", "filters": {"status": "issued"}},
    ).json()["id"]
    job = finished(wait, job_id)
    assert job.state == "succeeded", job.error
    ws = load_workbook(io.BytesIO(download(client, job.result["file_url"]))).active
    header = [c.value for c in ws[1]]
    row = dict(zip(header, [c.value for c in ws[2]], strict=True))
    assert row["Número"] == "OT-2026-0001"
    assert row["CUIT/CUIL"] == "30-70000000-8"
    assert row["Condición frente al IVA"] == "Responsable inscripto"
    assert (row["Neto"], row["IVA"], row["Total"], row["Saldo"]) == (
        100000, 21000, 121000, 120000,
    )  # fmt: skip
    assert ws.cell(2, header.index("Total") + 1).number_format == '"$" #,##0.00'
    assert ws.max_row == 2


def test_requester_is_emailed_the_link_once_and_only_they_and_admins_download(
    celery_worker,
    smtp_sink,
    api,
    login,
    admin,
    technician,
    vet_owner,
    pathologist,
    wait,
):
    seed_protocols(vet_owner, pathologist, 10)
    colleague = user_create(
        username="tecnico2",
        password="secreto-de-prueba",
        role=Role.LAB_STAFF,
        email="tecnico2@lab.example",
    )
    client = login(technician)
    client.post("/exportaciones/nueva/", {"dataset": "protocols", "format": "xlsx"})
    job = finished(wait, Job.objects.get(kind="exports.generate").pk)
    assert job.state == "succeeded", job.error
    export = Export.objects.get(job=job)
    [msg] = wait(lambda: smtp_sink.messages)
    assert msg["X-Envelope-To"] == technician.email
    text = msg.get_payload(0).get_payload(decode=True).decode()
    link = f"/exportaciones/{export.pk}/descargar/"
    assert link in text
    assert "10 filas" in text

    assert client.get(link).status_code == 200
    assert login(admin).get(link).status_code == 200
    assert login(colleague).get(link).status_code == 404
    assert login(vet_owner).get(link).status_code == 404
    api_url = job.result["file_url"]
    assert api(colleague).get(api_url).status_code == 404
    assert api(admin).get(api_url).status_code == 200
    # A re-run of the finished job mails nothing more.
    from patolab.exports.services import export_generate_execute
    from patolab.jobs.services import Progress

    export_generate_execute(job=job, progress=Progress(job))
    assert Export.objects.count() == 1
    import time

    time.sleep(1)
    assert len(smtp_sink.messages) == 1


def test_an_expired_export_is_deleted_by_the_cleanup_task_and_gone(
    celery_worker, api, admin, vet_owner, pathologist, wait
):
    seed_protocols(vet_owner, pathologist, 5)
    client = api(admin)
    job = finished(wait, client.post("/api/v1/exports", {"format": "csv"}).json()["id"])
    export = Export.objects.get(job_id=job.pk)
    assert default_storage.exists(export.file)
    Export.objects.filter(pk=export.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    assert client.get(job.result["file_url"]).status_code == 404  # already expired
    exports_cleanup.delay()
    wait(lambda: Export.objects.get(pk=export.pk).expired_at is not None)
    assert not default_storage.exists(export.file)


def test_admin_action_exports_the_selected_protocols(
    celery_worker, login, admin, vet_owner, pathologist, wait
):
    seed_protocols(vet_owner, pathologist, 20)
    chosen = list(Protocol.objects.order_by("pk").values_list("pk", flat=True)[:7])
    response = login(admin).post(
        "/admin/protocols/protocol/",
        {"action": "export_protocols_xlsx", "_selected_action": chosen},
    )
    assert response.status_code == 302
    job = finished(wait, Job.objects.get(kind="exports.generate").pk)
    assert job.state == "succeeded", job.error
    assert job.result["rows"] == 7
    ws = load_workbook(
        io.BytesIO(download(login(admin), job.result["file_url"]))
    ).active
    codes = {r[1] for r in ws.iter_rows(min_row=2, values_only=True)}
    assert codes == set(
        Protocol.objects.filter(pk__in=chosen).values_list("temporary_code", flat=True)
    )
