"""The production web server (gunicorn, as `make run` starts it) next to Django's
development server: 20 concurrent clients on loopback, the protocol list API
(page of 25) and a cached report PDF; requests per second and p50/p95; `/up`
latency. Targets: list p95 <= 150 ms and >= 150 req/s, cached PDF >= 400 req/s,
`/up` <= 20 ms (gunicorn)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests
from common import ROOT, load_average, percentile, setup_django

CLIENTS = 20
PER_CLIENT = int(os.environ.get("WEB_BENCH_REQUESTS", "25"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(kind: str, port: int) -> subprocess.Popen[bytes]:
    env = dict(os.environ, PORT=str(port), WEB_ACCESS_LOG="")
    venv = Path(sys.executable).parent
    if kind == "gunicorn":
        cmd = [str(venv / "gunicorn"), "config.wsgi", "-c", "config/gunicorn.py"]
    else:
        cmd = [
            sys.executable,
            "manage.py",
            "runserver",
            f"127.0.0.1:{port}",
            "--noreload",
        ]
    proc = subprocess.Popen(
        cmd,
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/up", timeout=5)
            return proc
        except requests.RequestException:
            time.sleep(0.3)
    raise RuntimeError(f"{kind} did not start")


def hammer(url: str, headers: dict[str, str]) -> tuple[float, list[float], int]:
    """CLIENTS threads, each with its own keep-alive session, PER_CLIENT GETs."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    barrier = threading.Barrier(CLIENTS)

    def client() -> None:
        session = requests.Session()
        session.get(url, headers=headers, timeout=60)  # warm the connection
        barrier.wait()
        for _ in range(PER_CLIENT):
            t0 = time.perf_counter()
            response = session.get(url, headers=headers, timeout=60)
            elapsed = (time.perf_counter() - t0) * 1000
            with lock:
                latencies.append(elapsed)
                errors[0] += response.status_code != 200

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    t0 = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - t0
    return len(latencies) / wall, latencies, errors[0]


def main() -> int:
    setup_django()
    from django.core.management import call_command

    from patolab.reports.models import Report

    call_command("seed_demo", "--force", verbosity=0)
    report = Report.objects.exclude(pdf_file="").order_by("pk").first()
    print(
        f"web server bench: {CLIENTS} clients x {PER_CLIENT} requests; {load_average()}"
    )
    for kind in ("gunicorn", "runserver"):
        port = free_port()
        proc = start(kind, port)
        base = f"http://127.0.0.1:{port}"
        try:
            token = requests.post(
                f"{base}/api/v1/auth/token",
                json={"username": "admin", "password": "patolab-demo"},
                timeout=60,
            ).json()["token"]
            auth = {"Authorization": f"Bearer {token}"}
            rows = [
                (
                    "protocol list API, page of 25",
                    f"{base}/api/v1/protocols?page_size=25",
                ),
            ]
            if report is not None:
                rows.append(
                    ("cached report PDF", f"{base}/api/v1/reports/{report.pk}/pdf")
                )
            for name, url in rows:
                rps, lat, errors = hammer(url, auth)
                print(
                    f"  {kind:<9} {name:<30} {rps:7.1f} req/s   p50 "
                    f"{percentile(lat, 50):7.1f} ms   p95 {percentile(lat, 95):7.1f} ms"
                    f"   non-200: {errors}"
                )
            up: list[float] = []
            for _ in range(50):
                t0 = time.perf_counter()
                requests.get(f"{base}/up", timeout=30)
                up.append((time.perf_counter() - t0) * 1000)
            print(
                f"  {kind:<9} {'/up (sequential)':<30} p50 {percentile(up, 50):7.1f} ms"
                f"   p95 {percentile(up, 95):7.1f} ms"
            )
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
    print(
        "  targets (gunicorn): list p95 <= 150 ms and >= 150 req/s; PDF >= 400 req/s; /up <= 20 ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
