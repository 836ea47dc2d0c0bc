"""Failure drills with real processes (issue 11, "Tests (real parts)").

gunicorn, Celery worker subprocesses, PostgreSQL, Redis and a real SMTP server;
each drill breaks something mid-run and ends with counts proving that nothing
was lost and nothing happened twice:

1. the worker running a 200-report PDF regeneration is SIGKILLed;
2. the worker running 50 finalizations (asked for over HTTP) is SIGKILLed;
3. every PostgreSQL connection of the test database is terminated, again and
   again for a few seconds, while 30 finalizations run.

The timing knobs (heartbeat, stale and stuck thresholds) are shrunk through the
environment of the subprocesses and the settings of this process, which runs
the sweepers the way beat would.
"""

from __future__ import annotations

import hashlib
import io
import time
import uuid
from collections import Counter
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests
from django.conf import settings as django_settings
from django.core.files.storage import default_storage
from django.db import connection
from django.utils import timezone
from pypdf import PdfReader

from conftest import PASSWORD, SmtpSink
from patolab.accounts.models import User
from patolab.jobs.models import Job, JobState
from patolab.notifications.models import EmailKind, EmailLog, EmailStatus
from patolab.protocols.models import Protocol, ProtocolStatus, ProtocolStatusHistory
from patolab.reports import pdf as report_pdf
from patolab.reports.jobs import REPORT_DOCUMENT
from patolab.reports.models import Report, ReportPdf, ReportStatus
from patolab.reports.services import report_pdf_store
from tests.integration.beat import WORKER_ENV, fast_sweeps, sweep

pytestmark = pytest.mark.integration


# ---------------------------------------------------------------- set-up
def make_reports(
    vet: User, pathologist: User, count: int, *, finalized: bool
) -> list[Report]:
    """`count` reports on protocols of `vet`, created directly (the drills
    break the work done on them, not their creation): drafts with a diagnosis
    on protocols in processing, or reports already sent."""
    now = timezone.now()
    series = uuid.uuid4().int % 90 + 10  # a year no other drill's numbers use
    protocols = Protocol.objects.bulk_create(
        Protocol(
            analysis_type="histopathology",
            status=ProtocolStatus.REPORT_SENT
            if finalized
            else ProtocolStatus.PROCESSING,
            temporary_code=f"TMP-DRILL-{uuid.uuid4().hex[:12]}",
            protocol_number=f"HP {series}/{i:04d}",
            veterinarian=vet.veterinarian,
            species="Canino",
            animal_name=f"Paciente {i}",
            owner_name="Marta Gómez",
            sampling_date=(now - timedelta(days=10)).date(),
            submitted_at=now - timedelta(days=9),
            received_at=now - timedelta(days=8),
            material_submitted="Biopsia de piel",
        )
        for i in range(1, count + 1)
    )
    return Report.objects.bulk_create(
        Report(
            protocol=protocol,
            status=ReportStatus.SENT if finalized else ReportStatus.DRAFT,
            histopathologist=pathologist,
            macroscopic="Fragmento de piel de 2 × 1 cm.",
            microscopic="Dermatitis perivascular superficial con eosinófilos.",
            diagnosis="Dermatitis alérgica crónica; sin evidencia de neoplasia.",
            finalized_at=now - timedelta(days=1) if finalized else None,
        )
        for protocol in protocols
    )


def store_old_pdfs(reports: Iterable[Report]) -> None:
    """Give each finalized report its current PDF as the old template made it
    (rendered, not signed: the drill is about what regeneration does next)."""
    for report in Report.objects.filter(pk__in=[r.pk for r in reports]).select_related(
        "protocol", "protocol__veterinarian", "histopathologist"
    ):
        data = REPORT_DOCUMENT.data(report)
        content = REPORT_DOCUMENT.render(data)
        row = report_pdf_store(
            report=report,
            data=content,
            reason="finalize",
            content_sha256=hashlib.sha256(content).hexdigest(),
        )
        Report.objects.filter(pk=report.pk).update(
            pdf_file=row.file, pdf_sha256=row.sha256
        )


# ---------------------------------------------------------------- checks
def stored_bytes(path: str) -> bytes:
    with default_storage.open(path, "rb") as fh:
        return fh.read()


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def pdf_attachments(msg: Any) -> list[bytes]:
    return [
        part.get_payload(decode=True)
        for part in msg.walk()
        if part.get_content_type() == "application/pdf"
    ]


def finalizations_done(report_ids: list[int], job_ids: list[str]) -> bool:
    return Job.objects.filter(pk__in=job_ids, state=JobState.SUCCEEDED).count() == len(
        job_ids
    ) and EmailLog.objects.filter(
        kind=EmailKind.REPORT_READY, status=EmailStatus.SENT
    ).count() == len(report_ids)


def wait_recovered(
    wait: Any, report_ids: list[int], job_ids: list[str], logs: Path
) -> None:
    """Run the sweepers (beat's part) until every finalization is done; on a
    timeout, fail with where things stand and the end of the process logs."""

    def recovered() -> bool:
        sweep()
        return finalizations_done(report_ids, job_ids)

    try:
        wait(recovered, timeout=240, interval=0.5)
    except AssertionError as timeout:
        jobs = Counter(Job.objects.filter(pk__in=job_ids).values_list("state", "error"))
        mails = Counter(
            EmailLog.objects.filter(kind=EmailKind.REPORT_READY).values_list(
                "status", "last_error"
            )
        )
        tails = "\n".join(
            f"--- {log.name}\n{log.read_text(errors='replace')[-4000:]}"
            for log in sorted(logs.glob("*.log"))
        )
        raise AssertionError(
            f"not recovered: jobs {jobs}, e-mails {mails}\n{tails}"
        ) from timeout


def assert_finalized_exactly_once(
    report_ids: list[int], job_ids: list[str], sink: SmtpSink, vet: User
) -> None:
    """Every report finalized once: one stored PDF (readable, with its protocol
    number), one e-mail carrying exactly that file, one closed protocol."""
    count = len(report_ids)
    assert not Job.objects.filter(state=JobState.FAILED).exists()
    jobs = Job.objects.filter(pk__in=job_ids)
    assert jobs.filter(state=JobState.SUCCEEDED).count() == count
    reports = list(Report.objects.filter(pk__in=report_ids).select_related("protocol"))
    assert Counter(r.status for r in reports) == {ReportStatus.SENT: count}
    # One stored PDF per report, and it is the one the report points at.
    assert ReportPdf.objects.filter(report_id__in=report_ids).count() == count
    rows = {
        row.report_id: row for row in ReportPdf.objects.filter(report_id__in=report_ids)
    }
    for report in reports:
        row = rows[report.pk]
        assert (row.sha256, row.file) == (report.pdf_sha256, report.pdf_file)
        data = stored_bytes(report.pdf_file)
        assert hashlib.sha256(data).hexdigest() == report.pdf_sha256
        assert report.protocol.protocol_number in pdf_text(data)
    # Protocols closed once each.
    protocols = [r.protocol_id for r in reports]
    assert (
        Protocol.objects.filter(
            pk__in=protocols, status=ProtocolStatus.REPORT_SENT
        ).count()
        == count
    )
    closed = Counter(
        ProtocolStatusHistory.objects.filter(
            protocol_id__in=protocols, to_status=ProtocolStatus.REPORT_SENT
        ).values_list("protocol_id", flat=True)
    )
    assert sorted(closed.values()) == [1] * count
    # E-mail: one row per report, all sent; a grace wait for a late duplicate.
    assert (
        EmailLog.objects.filter(
            kind=EmailKind.REPORT_READY, status=EmailStatus.SENT
        ).count()
        == count
    )
    time.sleep(3)
    messages = list(sink.messages)
    assert len(messages) == count
    assert len({m["Message-ID"] for m in messages}) == count
    assert {m["X-Envelope-To"] for m in messages} == {vet.veterinarian.delivery_email}
    attached = Counter(
        hashlib.sha256(attachment).hexdigest()
        for m in messages
        for attachment in pdf_attachments(m)
    )
    assert attached == Counter(r.pdf_sha256 for r in reports)


# ---------------------------------------------------------------- web clients
class Pathologist:
    """A pathologist's integration talking to the web process over HTTP."""

    def __init__(self, base_url: str, user: User) -> None:
        self.base = base_url
        self.session = requests.Session()
        response = self.session.post(
            f"{base_url}/api/v1/auth/token",
            json={"username": user.username, "password": PASSWORD},
            timeout=60,
        )
        assert response.status_code == 200, response.text[:500]
        self.session.headers["Authorization"] = f"Bearer {response.json()['token']}"

    def finalize(self, report_id: int) -> str:
        response = self.session.post(
            f"{self.base}/api/v1/reports/{report_id}/finalize", timeout=60
        )
        assert response.status_code == 202, response.text[:500]
        assert response.headers["Location"] == f"/api/v1/jobs/{response.json()['id']}"
        return str(response.json()["id"])

    def pdf(self, report_id: int) -> requests.Response:
        return self.session.get(
            f"{self.base}/api/v1/reports/{report_id}/pdf", timeout=60
        )


# ---------------------------------------------------------------- drill 1
def test_worker_killed_during_a_200_report_regeneration(
    worker_process,
    purge_broker,
    api,
    settings,
    monkeypatch,
    admin,
    vet_owner,
    pathologist,
    wait,
):
    fast_sweeps(settings)
    reports = make_reports(vet_owner, pathologist, 200, finalized=True)
    ids = [r.pk for r in reports]
    store_old_pdfs(reports)
    old = dict(Report.objects.filter(pk__in=ids).values_list("pk", "pdf_sha256"))

    # The template change: a new letterhead and a new renderer version, in the
    # workers (environment) and in this process (for the checks).
    lab_name = "Laboratorio de Patología Veterinaria · Sede Simulacro"
    renderer = report_pdf.RENDERER_VERSION + "-drill"
    env = {**WORKER_ENV, "LAB_NAME": lab_name, "TEST_REPORT_RENDERER_VERSION": renderer}
    settings.LAB_NAME = lab_name
    monkeypatch.setattr(report_pdf, "RENDERER_VERSION", renderer)

    doomed = worker_process("doomed", queues="bulk", **env)
    response = api(admin).post("/api/v1/reports/regenerate", {"report_ids": ids})
    assert response.status_code == 202, response.content
    job_id = response.json()["id"]
    wait(
        lambda: Job.objects.filter(pk=job_id, progress_current__gte=50).exists(),
        timeout=180,
        interval=0.05,
    )
    doomed.kill_hard()  # SIGKILL: the worker and its pool child, mid-report
    done_before = ReportPdf.objects.filter(
        report_id__in=ids, reason="regenerate"
    ).count()
    assert 0 < done_before < 200
    assert Job.objects.get(pk=job_id).state == JobState.RUNNING

    worker_process("rescuer", queues="bulk", **env)

    def recovered() -> bool:
        sweep()
        return Job.objects.filter(pk=job_id, state=JobState.SUCCEEDED).exists()

    wait(recovered, timeout=240, interval=0.5)
    job = Job.objects.get(pk=job_id)
    assert job.attempts == 2
    assert (job.result["succeeded"], job.result["failed"]) == (200, 0)
    # The rescue re-rendered nothing the first run had stored.
    assert (job.result["unchanged"], job.result["regenerated"]) == (
        done_before,
        200 - done_before,
    )

    # Every report: one current PDF at the new version, a new file, and exactly
    # one stored file for this regeneration (plus its old one).
    assert ReportPdf.objects.filter(report_id__in=ids).count() == 400
    per_report = Counter(
        ReportPdf.objects.filter(report_id__in=ids, reason="regenerate").values_list(
            "report_id", flat=True
        )
    )
    assert sorted(per_report.values()) == [1] * 200
    current = {
        r.pk: r
        for r in Report.objects.filter(pk__in=ids).select_related(
            "protocol", "protocol__veterinarian", "histopathologist"
        )
    }
    by_fingerprint = ReportPdf.objects.filter(report_id__in=ids).values(
        "report_id", "fingerprint"
    )
    new_rows = Counter(
        row["report_id"]
        for row in by_fingerprint
        if row["fingerprint"] == REPORT_DOCUMENT.fingerprint(current[row["report_id"]])
    )
    assert sorted(new_rows.values()) == [1] * 200
    for pk, report in current.items():
        stored = REPORT_DOCUMENT.stored(report, REPORT_DOCUMENT.fingerprint(report))
        assert stored is not None, pk
        assert stored.reason == "regenerate"
        assert report.pdf_sha256 == stored.sha256 != old[pk]
        assert hashlib.sha256(stored_bytes(stored.file)).hexdigest() == stored.sha256
    for pk in (ids[0], ids[done_before - 1], ids[done_before], ids[-1]):
        text = pdf_text(stored_bytes(current[pk].pdf_file))
        assert "Sede Simulacro" in text
        assert current[pk].protocol.protocol_number in text
    # On disk: the 400 recorded files. Only the file being written when the
    # worker died can lack its row (the rescue signed again: new bytes, new
    # name); no row points at it, so it is never served nor verified.
    media = Path(django_settings.MEDIA_ROOT)
    on_disk = {str(p.relative_to(media)) for p in (media / "reports").rglob("*.pdf")}
    recorded = set(
        ReportPdf.objects.filter(report_id__in=ids).values_list("file", flat=True)
    )
    assert recorded <= on_disk
    interrupted = current[ids[done_before]].pdf_file.rsplit(".", 2)[0] + "."
    orphans = on_disk - recorded
    assert len(orphans) <= 1
    assert all(name.startswith(interrupted) for name in orphans), orphans


# ---------------------------------------------------------------- drill 2
def test_worker_killed_during_50_finalizations_asked_over_http(
    web_process,
    worker_process,
    purge_broker,
    smtp_sink,
    settings,
    vet_owner,
    pathologist,
    wait,
    tmp_path,
):
    fast_sweeps(settings)
    env = {**WORKER_ENV, "EMAIL_URL": smtp_sink.url}
    report_ids = [
        r.pk for r in make_reports(vet_owner, pathologist, 50, finalized=False)
    ]
    web = web_process("web", workers=2)
    # `make run`'s layout: e-mail has its own worker, which lives on.
    worker_process("emails", queues="emails", concurrency=4, **env)
    doomed = worker_process(
        "doomed", queues="pdf_generation,default", concurrency=2, **env
    )

    client = Pathologist(web.url, pathologist)
    job_ids = [client.finalize(pk) for pk in report_ids]
    assert len(set(job_ids)) == 50

    def mid_run() -> bool:
        # A fifth of the work done, and a finalization claimed right now (just
        # after a report is sent its pool process may be between two jobs).
        return (
            Report.objects.filter(pk__in=report_ids, status=ReportStatus.SENT).count()
            >= 10
            and Job.objects.filter(pk__in=job_ids, state=JobState.RUNNING).exists()
        )

    wait(mid_run, timeout=180, interval=0.05)
    doomed.kill_hard()
    assert (
        Report.objects.filter(pk__in=report_ids, status=ReportStatus.SENT).count() < 50
    )

    worker_process("rescuer", queues="pdf_generation,default", concurrency=2, **env)

    wait_recovered(wait, report_ids, job_ids, tmp_path)
    assert_finalized_exactly_once(report_ids, job_ids, smtp_sink, vet_owner)
    # At least one job was caught running by the kill and ran again.
    assert Job.objects.filter(pk__in=job_ids, attempts__gte=2).exists()


# ---------------------------------------------------------------- drill 3
def terminate_backends(seconds: float, *, spare: set[int]) -> int:
    """For `seconds`, from a connection of its own, terminate every other
    backend of the test database (except the `spare` pids: this test's own
    connection) as soon as it appears. Returns how many were terminated."""
    db = django_settings.DATABASES["default"]
    killed = 0
    with psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db["PASSWORD"] or None,
        dbname=db["NAME"],
        autocommit=True,
    ) as conn:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            rows = conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                " AND pid <> ALL(%s)",
                [list(spare)],
            ).fetchall()
            killed += sum(1 for (ok,) in rows if ok)
            time.sleep(0.05)
    return killed


def test_postgresql_connections_terminated_during_30_finalizations(
    web_process,
    worker_process,
    purge_broker,
    smtp_sink,
    settings,
    vet_owner,
    pathologist,
    wait,
    tmp_path,
):
    fast_sweeps(settings)
    # Persistent connections, as in production (CONN_MAX_AGE 60 with health
    # checks): every process holds connections the storm kills while idle.
    env = {**WORKER_ENV, "EMAIL_URL": smtp_sink.url, "DB_CONN_MAX_AGE": "60"}
    report_ids = [
        r.pk for r in make_reports(vet_owner, pathologist, 30, finalized=False)
    ]
    web = web_process("web", workers=2, DB_CONN_MAX_AGE="60")
    worker_process("emails", queues="emails", concurrency=4, **env)
    client = Pathologist(web.url, pathologist)
    job_ids = [client.finalize(pk) for pk in report_ids]
    # The user-facing worker starts with the whole backlog waiting, and the
    # storm with its first report sent: it cannot miss the work in progress.
    worker_process("user", queues="pdf_generation,default", concurrency=2, **env)
    wait(
        lambda: Report.objects.filter(
            pk__in=report_ids, status=ReportStatus.SENT
        ).exists(),
        timeout=180,
        interval=0.05,
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (own,) = cursor.fetchone()
    killed = terminate_backends(4, spare={own})
    assert killed >= 5  # web, workers and their heartbeats lost connections
    in_flight = Report.objects.filter(
        pk__in=report_ids, status=ReportStatus.SENT
    ).count()
    assert in_flight < 30, "the storm came too late to hit the finalizations"

    wait_recovered(wait, report_ids, job_ids, tmp_path)
    # The storm hit work in progress, not only idle connections.
    worker_log = (tmp_path / "worker-user.log").read_text(errors="replace")
    assert any(
        lost in worker_log
        for lost in ("terminating connection", "server closed the connection")
    )
    assert_finalized_exactly_once(report_ids, job_ids, smtp_sink, vet_owner)
    # The web process recovered its connections too: every PDF is served.
    for pk in report_ids:
        response = client.pdf(pk)
        assert response.status_code == 200, response.text[:300]
        assert (
            hashlib.sha256(response.content).hexdigest()
            == Report.objects.get(pk=pk).pdf_sha256
        )
