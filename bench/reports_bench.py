"""Reports: PDF render, PDFs per second, finalize request (async vs the old
synchronous way), click-to-inbox over the real broker, serving a cached PDF.

Runnable standalone (`.venv/bin/python bench/reports_bench.py`): uses
DATABASE_URL / CELERY_BROKER_URL when set, otherwise a throw-away SQLite
database (and the embedded broker) in a temp dir. The SMTP sink answers each
message after BENCH_SMTP_DELAY seconds (default 0: the issue's "sink without
delay"; 0.3 is like a remote provider).
"""

from __future__ import annotations

import dataclasses
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from typing import Any

if not os.environ.get("DATABASE_URL"):
    os.environ.setdefault("PATOLAB_VAR_DIR", tempfile.mkdtemp(prefix="reports-bench-"))

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import (
    ROOT,
    SmtpSink,
    load_average,
    reference_pages,
    report,
    setup_django,
    size_line,
)

RENDER_ROUNDS = int(os.environ.get("BENCH_REPORT_ROUNDS", "200"))
THROUGHPUT_N = int(os.environ.get("BENCH_REPORT_THROUGHPUT", "200"))
REQUEST_N = int(os.environ.get("BENCH_REPORT_REQUESTS", "200"))
SYNC_N = int(os.environ.get("BENCH_REPORT_SYNC", "15"))
INBOX_N = int(os.environ.get("BENCH_REPORT_INBOX", "20"))
SERVE_N = int(os.environ.get("BENCH_REPORT_SERVE", "500"))
SMTP_DELAY = float(os.environ.get("BENCH_SMTP_DELAY", "0"))
FLOW_N = int(os.environ.get("BENCH_REPORT_FLOW", "100"))

PARAGRAPH = (
    "Se observa una proliferación neoplásica de células redondas dispuestas en "
    "cordones y láminas, con citoplasma granular y núcleos centrales; índice "
    "mitótico bajo (1 mitosis en 10 campos de gran aumento), edema y eosinófilos. "
) * 5


# ---------------------------------------------------------------- fixtures
class World:
    """Users and reportable protocols created for the bench, removed at the end."""

    def __init__(self) -> None:
        from patolab.accounts.models import Role
        from patolab.accounts.services import user_create, veterinarian_create

        self.tag = uuid.uuid4().hex[:8]
        self.vet = veterinarian_create(
            username=f"bench-vet-{self.tag}",
            password="bench-password-1",
            full_name="Dra. Bench Vétérinaire",
            email=f"vet-{self.tag}@bench.example",
            license_number="MP 1234",
            phone="221 555",
            locality="La Plata",
        )
        self.pathologist = user_create(
            username=f"bench-path-{self.tag}",
            password="bench-password-1",
            role=Role.HISTOPATHOLOGIST,
            email=f"path-{self.tag}@bench.example",
            first_name="Paula",
            last_name="Patóloga",
        )
        self.protocol_ids: list[int] = []
        self.counter = 0

    def draft(self, *, status: str = "sent") -> Any:
        """A report on a fresh `ready` protocol: a draft, or already sent."""
        from django.utils import timezone

        from patolab.protocols.models import Protocol
        from patolab.reports.models import Report

        self.counter += 1
        now = timezone.now()
        protocol = Protocol.objects.create(
            analysis_type="histopathology",
            status="ready",
            temporary_code=f"TMP-B-{self.tag}-{self.counter}",
            protocol_number=f"HP B{self.tag[:4]}/{self.counter:05d}",
            veterinarian=self.vet,
            species="Canino",
            breed="Ovejero alemán",
            sex="male",
            age="7 años",
            animal_name="Ñandú",
            owner_name="José Pérez",
            sampling_date=date(2026, 11, 20),
            submitted_at=now - timedelta(days=3),
            received_at=now - timedelta(days=2),
            material_submitted="Nódulo cutáneo",
        )
        self.protocol_ids.append(protocol.pk)
        return Report.objects.create(
            protocol=protocol,
            histopathologist=self.pathologist,
            status=status,
            macroscopic=PARAGRAPH,
            microscopic="\n\n".join([PARAGRAPH] * 4),
            diagnosis="Mastocitoma cutáneo grado II; márgenes libres.",
            comments=PARAGRAPH,
            finalized_at=now if status != "draft" else None,
        )

    def cleanup(self) -> None:
        from patolab.jobs.models import Job
        from patolab.notifications.models import EmailLog
        from patolab.protocols.models import Protocol
        from patolab.reports.models import Report

        reports = Report.objects.filter(protocol_id__in=self.protocol_ids)
        Job.objects.filter(
            target__in=[
                f"reports.report:{pk}" for pk in reports.values_list("pk", flat=True)
            ]
        ).delete()
        EmailLog.objects.filter(protocol_id__in=self.protocol_ids).delete()
        reports.filter(supersedes__isnull=False).delete()
        reports.delete()
        Protocol.objects.filter(pk__in=self.protocol_ids).delete()
        self.pathologist.delete()
        self.vet.user.delete()


def loaded(report_id: int) -> Any:
    from patolab.reports.models import Report

    return Report.objects.select_related(
        "protocol", "protocol__veterinarian", "histopathologist", "supersedes"
    ).get(pk=report_id)


def purge(queues: tuple[str, ...]) -> None:
    from config.celery import app

    for queue in queues:
        try:
            with app.connection_for_write() as conn:
                conn.default_channel.queue_purge(queue)
        except Exception:
            continue


# ---------------------------------------------------------------- figures
def bench_render(world: World) -> None:
    from pypdf import PdfReader

    from patolab.reports.documents import report_document_data
    from patolab.reports.pdf import render_report

    data = report_document_data(loaded(world.draft().pk))
    import io

    pages = len(PdfReader(io.BytesIO(render_report(data))).pages)
    samples = []
    for i in range(RENDER_ROUNDS + 10):
        # A new verification URL each time, so the QR is really encoded.
        item = dataclasses.replace(data, verification_url=f"{data.verification_url}{i}")
        start = time.perf_counter()
        render_report(item)
        if i >= 10:
            samples.append((time.perf_counter() - start) * 1000)
    report(f"report PDF render ({pages} pages, TTF, vector QR)", samples, "<= 7 ms")
    size_line(
        "report PDF size (renderer output, fonts embedded)",
        len(render_report(data)),
        28,
    )
    from patolab.reports.services import report_pdf_render_signed

    signed = report_pdf_render_signed(report=loaded(world.draft().pk))
    size_line(
        "report PDF size as stored (signed PDF/A-2b, issue 12)", len(signed.data), None
    )


def bench_throughput(world: World) -> None:
    import gc

    from config.celery import worker_process_warm
    from patolab.core.documents import document_fingerprint
    from patolab.reports.documents import report_document_data
    from patolab.reports.jobs import REPORT_DOCUMENT
    from patolab.reports.models import Report
    from patolab.reports.pdf import render_report
    from patolab.reports.services import _load as job_load
    from patolab.reports.services import report_pdf_store

    ids = [world.draft().pk for _ in range(THROUGHPUT_N)]
    # Per worker process: set up like a pool process (fonts warm, what is
    # loaded frozen out of the garbage collector); undone at the end.
    worker_process_warm()
    samples = []
    started = time.perf_counter()
    for report_id in ids:
        start = time.perf_counter()
        # The report as the finalize job reads it (one prepared query).
        item = job_load(report_id)
        data = report_document_data(item)
        stored = report_pdf_store(
            report=item,
            data=render_report(data),
            reason="finalize",
            # From the data just rendered, as the finalize job does.
            fingerprint=document_fingerprint(
                data, renderer=REPORT_DOCUMENT.renderer_version()
            ),
        )
        Report.objects.filter(pk=report_id).update(
            pdf_file=stored.file, pdf_sha256=stored.sha256
        )
        samples.append((time.perf_counter() - start) * 1000)
    per_second = len(ids) / (time.perf_counter() - started)
    report("report PDF render + store + DB, one process (per PDF)", samples, "reported")
    print(
        f"  {'report PDFs per second, one process':<58} {per_second:9.1f} /s{'':28}target >= 100 /s"
    )
    # The same with the PDF/A-2b signature every finalization now applies.
    from patolab.reports.services import report_pdf_issue

    ids = [world.draft().pk for _ in range(max(10, THROUGHPUT_N // 10))]
    started = time.perf_counter()
    for report_id in ids:
        item = job_load(report_id)
        stored = report_pdf_issue(report=item, reason="finalize")
        Report.objects.filter(pk=report_id).update(
            pdf_file=stored.file, pdf_sha256=stored.sha256
        )
    per_second = len(ids) / (time.perf_counter() - started)
    print(
        f"  {'signed report PDFs per second, one process (issue 12)':<58} {per_second:9.1f} /s{'':28}reported"
    )
    gc.unfreeze()


def bench_finalize_requests(world: World, sink: SmtpSink) -> None:
    from django.core.mail import EmailMessage, get_connection
    from django.test import Client

    from patolab.reports.documents import report_document_data
    from patolab.reports.pdf import render_report
    from patolab.reports.services import report_pdf_store

    client = Client()
    client.force_login(world.pathologist)
    ids = [world.draft(status="draft").pk for _ in range(REQUEST_N + 10)]
    async_ms = []
    for i, report_id in enumerate(ids):
        start = time.perf_counter()
        response = client.post(f"/api/v1/reports/{report_id}/finalize")
        elapsed = (time.perf_counter() - start) * 1000
        assert response.status_code == 202, response.content
        if i >= 10:
            async_ms.append(elapsed)
    purge(("pdf_generation",))
    from patolab.jobs.models import Job

    Job.objects.filter(
        target__in=[f"reports.report:{pk}" for pk in ids], state="queued"
    ).update(state="cancelled")

    # The old way: render + store + SMTP inside the request.
    connection = get_connection(
        "django.core.mail.backends.smtp.EmailBackend",
        host="127.0.0.1",
        port=sink.port,
        use_tls=False,
        timeout=10,
    )
    sync_ms = []
    for _ in range(SYNC_N):
        item = loaded(world.draft(status="draft").pk)
        start = time.perf_counter()
        data = render_report(report_document_data(item))
        report_pdf_store(report=item, data=data, reason="finalize")
        message = EmailMessage(
            subject=f"Informe {item.protocol.code}",
            body="Adjuntamos el informe.",
            to=[world.vet.email],
            connection=connection,
        )
        message.attach("informe.pdf", data, "application/pdf")
        message.send()
        sync_ms.append((time.perf_counter() - start) * 1000)
    a, _ = report(
        f"finalize request, async (test client, n={REQUEST_N})", async_ms, "<= 4 ms"
    )
    s, _ = report(
        f"finalize done synchronously in the request (SMTP {SMTP_DELAY * 1000:.0f} ms)",
        sync_ms,
        "reported",
    )
    print(f"  {'ratio sync / async (median)':<58} {s / a:9.1f} x")


def _start_worker(world: World, sink: SmtpSink, concurrency: int) -> Any:
    from django.conf import settings

    purge(("pdf_generation", "emails"))
    env = dict(os.environ)
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        env["DATABASE_URL"] = f"sqlite:///{db['NAME']}"
    env.update(
        CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
        MEDIA_ROOT=str(settings.MEDIA_ROOT),
        EMAIL_URL=f"smtp://127.0.0.1:{sink.port}",
        PATOLAB_VAR_DIR=os.environ.get("PATOLAB_VAR_DIR", str(ROOT / "var")),
    )
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-Q",
            "pdf_generation,emails",
            "-c",
            str(concurrency),
            "-n",
            f"bench-reports-{world.tag}-{concurrency}@%h",
            "-l",
            "WARNING",
            "--without-mingle",
            "--without-gossip",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )


def _wait_for_mail(sink: SmtpSink, count: int, deadline: float, what: str) -> None:
    while len(sink.accepted) < count:
        if time.monotonic() > deadline:
            raise SystemExit(f"{what}: the e-mail never arrived")
        time.sleep(0.002)


def bench_click_to_inbox(world: World, sink: SmtpSink) -> None:
    from django.test import Client

    worker = _start_worker(world, sink, concurrency=2)
    try:
        client = Client()
        client.force_login(world.pathologist)
        # Warm-up: the worker's first job loads fonts and opens connections.
        samples = []
        for i in range(INBOX_N + 2):
            report_id = world.draft(status="draft").pk
            before = len(sink.accepted)
            start = time.monotonic()
            response = client.post(f"/api/v1/reports/{report_id}/finalize")
            assert response.status_code == 202, response.content
            _wait_for_mail(
                sink, before + 1, start + (120 if i == 0 else 30), "click-to-inbox"
            )
            if i >= 2:
                samples.append((sink.accepted[before][0] - start) * 1000)
        report(
            f"click-to-inbox, idle worker (sink delay {SMTP_DELAY * 1000:.0f} ms)",
            samples,
            f"<= {40 + SMTP_DELAY * 1000:.0f} ms",
        )
        print(
            f"  {'  of which outside the sink delay (median)':<58} "
            f"{statistics.median(samples) - SMTP_DELAY * 1000:9.2f} ms{'':27}target <= 40 ms"
        )
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def bench_flow(world: World, sink: SmtpSink) -> None:
    """The whole flow: FLOW_N finalizations clicked through the API with one
    worker process, from the first click to the last e-mail in the sink."""
    from django.test import Client

    worker = _start_worker(world, sink, concurrency=1)
    try:
        client = Client()
        client.force_login(world.pathologist)
        # One warm-up finalization so the worker has started and loaded fonts.
        before = len(sink.accepted)
        warm = world.draft(status="draft").pk
        assert client.post(f"/api/v1/reports/{warm}/finalize").status_code == 202
        _wait_for_mail(sink, before + 1, time.monotonic() + 120, "flow warm-up")
        ids = [world.draft(status="draft").pk for _ in range(FLOW_N)]
        before = len(sink.accepted)
        start = time.monotonic()
        for report_id in ids:
            response = client.post(f"/api/v1/reports/{report_id}/finalize")
            assert response.status_code == 202, response.content
        clicked = time.monotonic()
        _wait_for_mail(sink, before + FLOW_N, start + 600, "flow")
        last = max(at for at, _ in sink.accepted[before:])
        total = (last - start) * 1000
        print(
            f"  {f'whole flow: {FLOW_N} finalizations, one worker process':<58} "
            f"{total:9.0f} ms{'':27}reported"
        )
        print(
            f"  {'  clicks (API) / per report first click to last e-mail':<58} "
            f"{(clicked - start) * 1000:9.0f} ms / {total / FLOW_N:.1f} ms"
        )
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def bench_serve(world: World) -> None:
    from django.test import Client

    from patolab.reports.documents import report_document_data
    from patolab.reports.models import Report
    from patolab.reports.pdf import render_report
    from patolab.reports.services import report_pdf_store

    item = loaded(world.draft().pk)
    stored = report_pdf_store(
        report=item, data=render_report(report_document_data(item)), reason="finalize"
    )
    Report.objects.filter(pk=item.pk).update(
        pdf_file=stored.file, pdf_sha256=stored.sha256
    )
    client = Client()
    client.force_login(world.vet.user)
    url = f"/informes/{item.pk}/pdf/"
    for etag, suffix in ((None, "200 + body"), (f'"{stored.sha256}"', "304")):
        headers = {"If-None-Match": etag} if etag else {}
        samples = []
        for i in range(SERVE_N + 20):
            start = time.perf_counter()
            response = client.get(url, headers=headers)
            if getattr(response, "streaming", False):
                b"".join(response.streaming_content)
            response.close()
            elapsed = (time.perf_counter() - start) * 1000
            assert response.status_code in (200, 304), response.status_code
            if i >= 20:
                samples.append(elapsed)
        report(f"serve cached report PDF via its view ({suffix})", samples, "<= 2.5 ms")


def main() -> None:
    import logging

    setup_django()
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    from django.conf import settings
    from django.core.management import call_command
    from django.test.utils import setup_test_environment

    setup_test_environment()
    call_command("migrate", verbosity=0, interactive=False)
    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    broker = settings.CELERY_BROKER_URL.split("://")[0]
    print(
        f"reports: db={engine} broker={broker} smtp delay={SMTP_DELAY * 1000:.0f} ms"
        f" sessions={settings.SESSION_ENGINE.rsplit('.', 1)[-1]} {load_average()}"
    )
    world = World()
    sink = SmtpSink(SMTP_DELAY)
    try:
        only = os.environ.get("BENCH_ONLY", "")
        if not only or "render" in only:
            reference_pages()
            bench_render(world)
        if not only or "throughput" in only:
            bench_throughput(world)
        if not only or "serve" in only:
            bench_serve(world)
        if not only or "finalize" in only:
            bench_finalize_requests(world, sink)
        if not only or "inbox" in only:
            bench_click_to_inbox(world, sink)
        if not only or "flow" in only:
            bench_flow(world, sink)
        print(f"reports: {load_average()}")
    finally:
        sink.stop()
        if not os.environ.get("BENCH_KEEP"):
            world.cleanup()


if __name__ == "__main__":
    main()
