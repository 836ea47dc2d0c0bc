"""Job round trip over the real broker: enqueue latency and queued-to-done latency.

Starts one real worker subprocess, then times N `system.selftest` jobs (no work):
- enqueue: job_start() inside a transaction until commit returns (row + publish),
- queued-to-done: from commit until the Job row says `succeeded` (polled every 1 ms).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

from common import ROOT, report, setup_django

N = int(os.environ.get("BENCH_JOBS", "200"))


def main() -> None:
    setup_django()
    from django.conf import settings
    from django.db import transaction

    from patolab.jobs.models import Job, JobState
    from patolab.jobs.services import job_start

    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    print(f"jobs: broker={settings.CELERY_BROKER_URL.split('://')[0]} db={engine}")
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-Q",
            "default",
            "-c",
            "1",
            "-n",
            "bench@%h",
            "-l",
            "WARNING",
            "--without-mingle",
            "--without-gossip",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        time.sleep(4)  # worker start-up
        enqueue_ms: list[float] = []
        done_ms: list[float] = []
        for _ in range(N):
            start = time.perf_counter()
            with transaction.atomic():
                job = job_start(kind="system.selftest", params={"steps": 1, "delay": 0})
            committed = time.perf_counter()
            enqueue_ms.append((committed - start) * 1000)
            deadline = committed + 30
            while not Job.objects.filter(pk=job.pk, state=JobState.SUCCEEDED).exists():
                if time.perf_counter() > deadline:
                    raise SystemExit(f"job {job.pk} did not finish")
                time.sleep(0.001)
            done_ms.append((time.perf_counter() - committed) * 1000)
        report(f"enqueue (job_start + commit + publish), n={N}", enqueue_ms, "reported")
        report(f"queued-to-done, idle worker, n={N}", done_ms, "reported")
    finally:
        worker.terminate()
        worker.wait(timeout=30)


if __name__ == "__main__":
    main()
