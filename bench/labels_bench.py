"""Labels: render time per label page, and serving a cached label PDF through its
view (session-authenticated HTML view and the bearer-token API endpoint).

Runnable standalone (`.venv/bin/python bench/labels_bench.py`): without
DATABASE_URL it uses a throw-away SQLite database in a temp dir.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import uuid
from datetime import date

if not os.environ.get("DATABASE_URL"):
    os.environ.setdefault("PATOLAB_VAR_DIR", tempfile.mkdtemp(prefix="labels-bench-"))

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import load_average, reference_pages, report, setup_django, size_line

RENDER_ROUNDS = int(os.environ.get("BENCH_LABEL_ROUNDS", "300"))
SERVE_ROUNDS = int(os.environ.get("BENCH_LABEL_SERVE", "500"))


def bench_render() -> None:
    from patolab.labels.render import LabelData, render_labels

    counter = iter(range(10**9))

    def item(containers: int) -> LabelData:
        # A new URL every time: no QR cache hit, like a real reception.
        n = next(counter)
        return LabelData(
            protocol_number=f"HP 26/{n % 10000:04d}",
            animal_name="Firulais Bartolomé de los Santos Gutiérrez",
            species="Canino",
            received_on=date(2026, 11, 28),
            containers=containers,
            url=f"https://patolab.example.org/protocolos/{100000 + n}/",
        )

    render_labels([item(1)])  # fonts registered
    reference_pages()
    cases = (
        ("1 protocol x 1 container", 1, 1, "<= 1.0 ms"),
        ("1 protocol x 3 containers", 1, 3, "reported"),
        ("batch: 50 protocols x 2 containers", 50, 2, "<= 0.5 ms"),
    )
    for label, protocols, containers, target in cases:
        pages = protocols * containers
        rounds = max(20, RENDER_ROUNDS // protocols)
        samples = []
        for _ in range(rounds):
            items = [item(containers) for _ in range(protocols)]
            start = time.perf_counter()
            render_labels(items)
            samples.append((time.perf_counter() - start) * 1000 / pages)
        report(f"label PDF render per page ({label})", samples, target)
    warm = [item(3)]
    render_labels(warm)
    samples = []
    for _ in range(RENDER_ROUNDS):
        start = time.perf_counter()
        render_labels(warm)
        samples.append((time.perf_counter() - start) * 1000 / 3)
    report(
        "label PDF re-render per page (QR cached, 3 containers)", samples, "reported"
    )
    size_line(
        "label PDF size, one label page (font embedded)",
        len(render_labels([item(1)])),
        12,
    )
    size_line(
        "label PDF size per page, batch of 50 x 2",
        len(render_labels([item(2) for _ in range(50)])) // 100,
        None,
    )


def bench_serve() -> None:
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment
    from django.urls import reverse
    from django.utils import timezone

    setup_test_environment()
    call_command("migrate", verbosity=0, interactive=False)

    from patolab.accounts.models import Role
    from patolab.accounts.services import (
        api_token_create,
        user_create,
        veterinarian_create,
    )
    from patolab.core.documents import document_build
    from patolab.labels.jobs import LABEL_DOCUMENT
    from patolab.protocols.models import Protocol, Reception

    tag = uuid.uuid4().hex[:8]
    vet = veterinarian_create(
        username=f"bench-vet-{tag}",
        password="bench-password-1",
        full_name="Bench Vet",
        email=f"vet-{tag}@bench.example",
        license_number="MP 1",
        phone="1",
        locality="La Plata",
    )
    staff = user_create(
        username=f"bench-staff-{tag}",
        password="bench-password-1",
        role=Role.LAB_STAFF,
        email=f"staff-{tag}@bench.example",
    )
    protocol = Protocol.objects.create(
        analysis_type="histopathology",
        temporary_code=f"TMP-BENCH-{tag}",
        protocol_number=f"HP 99/{tag[:6]}",
        veterinarian=vet,
        species="Canino",
        animal_name="Firulais",
        sampling_date=date(2026, 11, 20),
        status="received",
    )
    Reception.objects.create(
        protocol=protocol,
        sample_condition="optimal",
        containers_received=3,
        received_by=staff,
        received_at=timezone.now(),
    )
    try:
        protocol = Protocol.objects.select_related("reception").get(pk=protocol.pk)
        doc = document_build(LABEL_DOCUMENT, protocol)
        browser = Client()
        browser.force_login(staff)
        key = api_token_create(username=staff.username, password="bench-password-1")
        cases = (
            ("view", browser, reverse("labels:protocol-pdf", args=[protocol.pk]), {}),
            (
                "API",
                Client(),
                f"/api/v1/protocols/{protocol.pk}/label.pdf",
                {"Authorization": f"Bearer {key}"},
            ),
        )
        for name, client, url, headers in cases:
            for etag, suffix in ((None, "200 + body"), (f'"{doc.sha256}"', "304")):
                hdrs = dict(headers)
                if etag:
                    hdrs["If-None-Match"] = etag
                samples = []
                for i in range(SERVE_ROUNDS + 20):
                    start = time.perf_counter()
                    response = client.get(url, headers=hdrs)
                    if getattr(response, "streaming", False):
                        b"".join(response.streaming_content)
                    response.close()
                    elapsed = (time.perf_counter() - start) * 1000
                    assert response.status_code in (200, 304), response.status_code
                    if i >= 20:  # warm-up
                        samples.append(elapsed)
                with CaptureQueriesContext(connection) as queries:
                    client.get(url, headers=hdrs).close()
                report(
                    f"serve cached label PDF via {name} ({suffix}, "
                    f"{len(queries)} queries)",
                    samples,
                    "<= 2.5 ms",
                )
    finally:
        Protocol.objects.filter(pk=protocol.pk).delete()
        staff.delete()
        vet.user.delete()


def main() -> None:
    setup_django()
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    print(
        f"labels: db={engine} sessions={settings.SESSION_ENGINE.rsplit('.', 1)[-1]}"
        f" {load_average()}"
    )
    bench_render()
    bench_serve()


if __name__ == "__main__":
    main()
