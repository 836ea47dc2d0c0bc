"""Issue 7: nobody waits on slow work. Admin bulk action requests, bulk status
with e-mails to a real SMTP sink, job pickup latency, and a user finalization
behind 300 queued label batches, on the configured broker and on the embedded
one. Workers are real subprocesses in the `make run` layout (Procfile):
user (pdf_generation,default), bulk, emails (16 threads).

Each broker runs in its own child process (`--broker URL`), because a process's
Celery app is bound to one broker.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import ROOT, SmtpSink, load_average, report, setup_django

WORKERS = {
    "user": ["-Q", "pdf_generation,default", "-c", "2"],
    "bulk": ["-Q", "bulk", "-c", "1"],
    "emails": ["-Q", "emails", "-P", "threads", "-c", "16"],
}


def start_workers(
    env: dict[str, str], names: list[str]
) -> list[subprocess.Popen[bytes]]:
    procs = []
    for name in names:
        cmd = [
            sys.executable, "-m", "celery", "-A", "config", "worker", *WORKERS[name],
            "-n", f"bench-{name}@%h", "-l", "WARNING", "--without-mingle",
            "--without-gossip",
        ]  # fmt: skip
        procs.append(
            subprocess.Popen(
                cmd,
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.STDOUT,
            )
        )
    time.sleep(8)  # start-up (imports, font warm-up)
    return procs


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def wait_for(predicate: Any, timeout: float = 120, interval: float = 0.005) -> float:
    start = time.perf_counter()
    while not predicate():
        if time.perf_counter() - start > timeout:
            raise SystemExit("timed out")
        time.sleep(interval)
    return time.perf_counter() - start


# ---------------------------------------------------------------- fixtures
def world() -> dict[str, Any]:
    from patolab.accounts.models import Role, User, Veterinarian
    from patolab.accounts.services import user_create, veterinarian_create

    def user(username: str, role: str) -> User:
        found = User.objects.filter(username=username).first()
        return found or user_create(
            username=username, password="bench-1234", role=role,
            email=f"{username}@lab.example",
        )  # fmt: skip

    vet = Veterinarian.objects.filter(user__username="bench_vet").first()
    if vet is None:
        vet = veterinarian_create(
            username="bench_vet", password="bench-1234", full_name="Vera Bench",
            email="bench_vet@vet.example", license_number="MP 1", phone="1",
            locality="La Plata",
        )  # fmt: skip
    admin = user("bench_admin", Role.ADMIN)
    admin.is_staff = admin.is_superuser = True
    admin.save()
    return {
        "vet": vet,
        "admin": admin,
        "staff": user("bench_staff", Role.LAB_STAFF),
        "pathologist": user("bench_patho", Role.HISTOPATHOLOGIST),
    }


def submitted(vet: Any, n: int) -> list[int]:
    """n submitted histopathology protocols, inserted in bulk (fixtures only)."""
    import uuid

    from django.utils import timezone

    from patolab.protocols.models import Protocol

    tag = uuid.uuid4().hex[:10].upper()
    now = timezone.now()
    rows = [
        Protocol(
            analysis_type="histopathology", status="submitted",
            temporary_code=f"TMP-B{tag}-{i:05d}", veterinarian=vet, species="Canino",
            animal_name=f"Bench {i}", sampling_date=now.date(), submitted_at=now,
            containers=1,
        )
        for i in range(n)
    ]  # fmt: skip
    return [p.pk for p in Protocol.objects.bulk_create(rows)]


def received(w: dict[str, Any], n: int) -> list[int]:
    from patolab.protocols.models import Protocol
    from patolab.protocols.services import protocol_receive

    out = []
    for pk in submitted(w["vet"], n):
        protocol = protocol_receive(
            protocol=Protocol.objects.get(pk=pk), received_by=w["staff"],
            sample_condition="optimal", containers=1, notify=False, render_labels=True,
        )  # fmt: skip
        out.append(protocol.pk)
    return out


# ---------------------------------------------------------------- figures
def admin_action_requests(w: dict[str, Any]) -> None:
    """The changelist POST as the admin sends it: the protocols of one search,
    "select all N" (select_across) with the page's ids, one action."""
    from django.test import Client

    from patolab.jobs.models import Job
    from patolab.protocols.models import Protocol

    client = Client()
    client.force_login(w["admin"])
    client.get("/admin/protocols/protocol/")
    reference = []
    for _ in range(15):
        start = time.perf_counter()
        client.get("/admin/")
        reference.append((time.perf_counter() - start) * 1000)
    report("reference (same run): GET /admin/ index", reference, "reported")
    for n in (50, 1000):
        ids = submitted(w["vet"], n)
        tag = Protocol.objects.get(pk=ids[0]).temporary_code.rsplit("-", 1)[0]
        page_ids = ids[:100]
        samples = []
        for _ in range(15):
            start = time.perf_counter()
            response = client.post(
                f"/admin/protocols/protocol/?q={tag}",
                {
                    "action": "move_to_cancelled",
                    "select_across": "1",
                    "_selected_action": page_ids,
                    "index": 0,
                },
            )
            samples.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 302, response.status_code
        job = Job.objects.filter(kind="protocols.bulk_status").latest("created_at")
        assert len(job.params["protocol_ids"]) == n
        report(f"admin bulk action request, {n} protocols", samples, "<= 30 ms, flat")
    # The bench created jobs only to time their requests: no worker runs them.
    Job.objects.filter(kind="protocols.bulk_status", state="queued").delete()


def bulk_status_with_emails(w: dict[str, Any], sink: SmtpSink, delay: float) -> float:
    from django.db import transaction

    from patolab.protocols.services import protocol_bulk_status_start

    sink.delay = delay
    ids = submitted(w["vet"], 50)
    before = sink.count
    start = time.perf_counter()
    with transaction.atomic():
        protocol_bulk_status_start(
            protocol_ids=ids,
            status="rejected",
            note="Muestra sin formol.",
            user=w["admin"],
        )
    request_ms = (time.perf_counter() - start) * 1000
    elapsed = wait_for(lambda: sink.count - before >= 50, timeout=300, interval=0.01)
    report(
        f"bulk status 50 + e-mails, request to last e-mail, SMTP delay {int(delay * 1000)} ms",
        [elapsed * 1000],
        "<= 1 s" if not delay else "<= 3 s",
    )
    return request_ms


def bulk_status_synchronously(w: dict[str, Any], sink: SmtpSink) -> float:
    """The old way: the request changes 50 protocols and sends their e-mails."""
    from django.db import transaction

    from patolab.notifications.models import EmailLog
    from patolab.notifications.services import email_log_deliver
    from patolab.protocols.models import Protocol
    from patolab.protocols.services import protocol_status_change

    sink.delay = 0
    ids = submitted(w["vet"], 50)
    start = time.perf_counter()
    for pk in ids:
        with transaction.atomic():
            protocol_status_change(
                protocol=Protocol.objects.get(pk=pk), to_status="rejected",
                user=w["admin"], note="Muestra sin formol.",
            )  # fmt: skip
    for log_id in EmailLog.objects.filter(protocol_id__in=ids).values_list(
        "pk", flat=True
    ):
        email_log_deliver(email_log_id=log_id)
    return (time.perf_counter() - start) * 1000


def pickup_latency(label: str, target: str) -> None:
    from django.db import transaction

    from patolab.jobs.models import Job
    from patolab.jobs.services import job_start

    samples = []
    for _ in range(20):
        time.sleep(0.35)  # the worker is idle again
        with transaction.atomic():
            job = job_start(kind="system.selftest", params={"steps": 1, "delay": 0})
        sent = time.time()
        pk = job.pk
        wait_for(
            lambda pk=pk: Job.objects.filter(pk=pk, started_at__isnull=False).exists()
        )
        started = Job.objects.get(pk=pk).started_at.timestamp()
        samples.append(max(0.0, started - sent) * 1000)
    report(f"job pickup latency, idle worker, {label}", samples, target)


def finalization_behind_batches(w: dict[str, Any], label: str) -> None:
    from django.db import transaction

    from patolab.jobs.models import Job, JobState
    from patolab.labels.services import start_label_batch
    from patolab.protocols.models import Protocol
    from patolab.reports.services import report_create, report_request_finalize

    ids = received(w, 3)
    with transaction.atomic():
        for _ in range(300):
            start_label_batch(protocol_ids=ids[:2], user=w["staff"])
    Protocol.objects.filter(pk=ids[2]).update(status="ready")
    draft = report_create(
        protocol=Protocol.objects.get(pk=ids[2]), histopathologist=w["pathologist"],
        macroscopic="Nódulo de 2 cm.", microscopic="Mastocitoma grado II.",
        diagnosis="Mastocitoma.",
    )  # fmt: skip
    start = time.perf_counter()
    with transaction.atomic():
        job = report_request_finalize(user=w["pathologist"], report=draft)
    wait_for(
        lambda: Job.objects.filter(pk=job.pk, state=JobState.SUCCEEDED).exists(),
        timeout=300,
    )
    elapsed = (time.perf_counter() - start) * 1000
    waiting = Job.objects.filter(kind="labels.batch", state="queued").count()
    report(
        f"finalization with 300 label batches queued, {label} ({waiting} still queued)",
        [elapsed],
        "<= 2 s",
    )
    Job.objects.filter(kind="labels.batch", state="queued").update(state="cancelled")


def run_on_broker(broker: str) -> None:
    import logging

    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd's chatter
    os.environ["CELERY_BROKER_URL"] = broker
    sink = SmtpSink()
    os.environ["EMAIL_URL"] = f"smtp://127.0.0.1:{sink.port}"
    setup_django()
    label = (
        "embedded (sqla+sqlite)" if broker.startswith("sqla") else broker.split(":")[0]
    )
    env = dict(os.environ, DB_CONN_MAX_AGE="0")
    w = world()
    procs = start_workers(env, ["user", "bulk", "emails"])
    try:
        print(f"async: broker={label}  {load_average()}", flush=True)
        if not broker.startswith("sqla"):
            admin_action_requests(w)
        request_ms = bulk_status_with_emails(w, sink, 0.0)
        bulk_status_with_emails(w, sink, 0.3)
        if not broker.startswith("sqla"):
            sync_ms = bulk_status_synchronously(w, sink)
            report(
                "bulk status 50 start request (the job way)", [request_ms], "reported"
            )
            report(
                "the same 50 in the request, the old way (SMTP 0 ms)",
                [sync_ms],
                "reported",
            )
            print(f"  ratio old/new request time: {sync_ms / request_ms:.0f}x")
        pickup_latency(label, "<= 200 ms" if broker.startswith("sqla") else "<= 20 ms")
        finalization_behind_batches(w, label)
        print(f"  (same run) {load_average()}")
    finally:
        stop(procs)
        sink.stop()


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--broker":
        run_on_broker(sys.argv[2])
        return
    brokers = []
    configured = os.environ.get("CELERY_BROKER_URL", "")
    if configured and not configured.startswith("sqla"):
        brokers.append(configured)
    tmp = Path(tempfile.mkdtemp(prefix="patolab-bench-broker-"))
    brokers.append(f"sqla+sqlite:///{tmp / 'broker.sqlite3'}")
    failed = 0
    for broker in brokers:
        result = subprocess.run(
            [sys.executable, __file__, "--broker", broker], cwd=Path(__file__).parent,
            check=False,
        )  # fmt: skip
        failed += result.returncode != 0
    if failed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
