"""Work orders: PDF render time, and serving the cached (current) work-order PDF
through its views (session-authenticated HTML view and bearer-token API), which
includes recomputing the fingerprint to prove the cached file is not stale.

Runnable standalone (`.venv/bin/python bench/workorders_bench.py`): without
DATABASE_URL it uses a throw-away SQLite database in a temp dir.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import uuid
from datetime import date
from decimal import Decimal

if not os.environ.get("DATABASE_URL"):
    os.environ.setdefault("PATOLAB_VAR_DIR", tempfile.mkdtemp(prefix="wo-bench-"))

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import load_average, reference_pages, report, setup_django, size_line

RENDER_ROUNDS = int(os.environ.get("BENCH_WO_ROUNDS", "300"))
SERVE_ROUNDS = int(os.environ.get("BENCH_WO_SERVE", "500"))
WARMUP = 20


def sample_document(lines: int = 6):  # type: ignore[no-untyped-def]
    from patolab.workorders.pdf import PdfLine, PdfProtocol, WorkOrderDocument

    D = Decimal
    return WorkOrderDocument(
        lab_name="Laboratorio de Patología Veterinaria",
        number="OT-2026-0042",
        status="Emitida",
        date="28/11/2026",
        veterinarian="María Eugenia López",
        veterinarian_license="MP 3876",
        veterinarian_contact="mel@vet.example · 221 555-0101 · City Bell",
        billing_name="Clínica Veterinaria Ñandú SRL",
        cuit="30-70000000-8",
        tax_condition="Responsable inscripto",
        tax_discriminated=True,
        protocols=tuple(
            PdfProtocol(
                f"HP 26/{n:03d}", "Histopatología", "Toby · Canino", "27/11/2026"
            )
            for n in range(3)
        ),
        lines=tuple(
            PdfLine(
                "HP-01",
                f"Histopatología (1 frasco) · HP 26/{n:03d}",
                1,
                D("62000.00"),
                D("10"),
                D("55800.00"),
            )
            for n in range(lines)
        ),
        subtotal=D("372000.00"),
        discount_total=D("37200.00"),
        net=D("276694.21"),
        tax_total=D("58105.79"),
        total=D("334800.00"),
        advance_payment=D("50000.00"),
        balance=D("284800.00"),
        notes="Pago por transferencia bancaria.",
    )


def bench_render() -> None:
    from patolab.workorders.pdf import render_work_order

    doc = sample_document()
    render_work_order(doc)  # fonts registered
    samples = []
    for _ in range(RENDER_ROUNDS):
        start = time.perf_counter()
        render_work_order(doc)
        samples.append((time.perf_counter() - start) * 1000)
    report("work-order PDF render (3 protocols, 6 lines)", samples, "<= 2.5 ms")
    size_line("work-order PDF size (fonts embedded)", len(render_work_order(doc)), 22)


def bench_serve() -> None:
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.urls import reverse
    from django.utils import timezone

    setup_test_environment()
    call_command("migrate", verbosity=0, interactive=False)

    from patolab.accounts.services import api_token_create, veterinarian_create
    from patolab.core.documents import document_build
    from patolab.protocols.models import Protocol
    from patolab.workorders.jobs import WORKORDER_DOCUMENT
    from patolab.workorders.models import PricingItem
    from patolab.workorders.services import workorder_create

    tag = uuid.uuid4().hex[:8]
    vet = veterinarian_create(
        username=f"bench-wo-vet-{tag}",
        password="bench-password-1",
        full_name="Bench Vet",
        email=f"wo-vet-{tag}@bench.example",
        license_number="MP 1",
        phone="1",
        locality="La Plata",
    )
    item = PricingItem.objects.create(
        code=f"B-{tag}",
        description="Histopatología (bench)",
        analysis_type="",
        unit_price=Decimal("62000.00"),
    )
    protocols = [
        Protocol.objects.create(
            analysis_type="histopathology",
            temporary_code=f"TMP-WOB-{tag}-{n}",
            protocol_number=f"HP 98/{tag[:5]}{n}",
            veterinarian=vet,
            species="Canino",
            animal_name="Firulais",
            sampling_date=date(2026, 11, 20),
            status="received",
            received_at=timezone.now(),
        )
        for n in range(3)
    ]
    from patolab.workorders.services import LineInput

    wo = workorder_create(
        veterinarian=vet,
        protocols=protocols,
        lines=[
            LineInput(code=item.code, quantity=1, discount_percent=10, protocol_id=p.pk)
            for p in protocols
        ],
        tax_condition="consumidor_final",
        created_by=None,
    )
    try:
        pdf = document_build(WORKORDER_DOCUMENT, wo)
        browser = Client()
        browser.force_login(vet.user)
        key = api_token_create(username=vet.user.username, password="bench-password-1")
        cases = (
            ("view", browser, reverse("workorders:pdf", args=[wo.pk]), {}),
            (
                "API",
                Client(),
                f"/api/v1/workorders/{wo.pk}/pdf",
                {"Authorization": f"Bearer {key}"},
            ),
        )
        for name, client, url, headers in cases:
            for etag, suffix in ((None, "200 + body"), (f'"{pdf.sha256}"', "304")):
                hdrs = dict(headers)
                if etag:
                    hdrs["If-None-Match"] = etag
                samples = []
                for i in range(SERVE_ROUNDS + WARMUP):
                    start = time.perf_counter()
                    response = client.get(url, headers=hdrs)
                    if getattr(response, "streaming", False):
                        b"".join(response.streaming_content)
                    response.close()
                    elapsed = (time.perf_counter() - start) * 1000
                    assert response.status_code in (200, 304), response.status_code
                    if i >= WARMUP:
                        samples.append(elapsed)
                report(
                    f"serve cached work-order PDF via {name} ({suffix})",
                    samples,
                    "<= 2.5 ms",
                )
    finally:
        wo.lines.all().delete()
        wo.protocol_links.all().delete()
        wo.pdfs.all().delete()
        wo.delete()
        Protocol.objects.filter(pk__in=[p.pk for p in protocols]).delete()
        item.delete()
        vet.user.delete()


def main() -> None:
    setup_django()
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    print(
        f"workorders: db={engine} sessions={settings.SESSION_ENGINE.rsplit('.', 1)[-1]}"
        f" {load_average()}"
    )
    reference_pages()
    bench_render()
    bench_serve()


if __name__ == "__main__":
    main()
