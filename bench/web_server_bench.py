"""The production web server (gunicorn with config/gunicorn.py, as `make run`
starts it) next to Django's development server: 20 concurrent keep-alive
clients on loopback, the protocol list API (page of 25) and a cached report
PDF, requests per second and p50/p95; `/up` latency with the workers `make run`
starts (the Procfile's) running, so it counts them as it does there.

Targets (gunicorn): list p95 <= 150 ms and >= 150 req/s, cached PDF >= 400
req/s, `/up` <= 20 ms.

The load generator shares the machine's cores with the server: it is `wrk`
(C, one epoll thread; Debian package `wrk`) when installed, else ApacheBench
(`ab`, package `apache2-utils`), else Python threads (which eat about a core
themselves: read those figures as a floor). WEB_BENCH_CLIENT=wrk|ab|python
forces one. Same-run reference: the smallest WSGI app (bench/wsgi_reference.py)
under the same gunicorn configuration and client, and the load average before
each server. WEB_BENCH_SECONDS sets the length of each run (default 8),
WEB_BENCH_SERVERS which servers run (default "gunicorn,runserver"); gunicorn
reads WEB_CONCURRENCY / WEB_THREADS like `make run`.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import requests
from common import ROOT, free_port, load_average, percentile, setup_django

CLIENTS = 20
SECONDS = float(os.environ.get("WEB_BENCH_SECONDS", "8"))
WRK_SCRIPT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH %d %d %.0f %.0f %d\\n", summary.requests,
    summary.duration, latency:percentile(50), latency:percentile(95),
    e.status + e.connect + e.read + e.write + e.timeout))
end
"""


def client_tool() -> str:
    forced = os.environ.get("WEB_BENCH_CLIENT", "")
    if forced:
        return forced
    for tool in ("wrk", "ab"):
        if shutil.which(tool):
            return tool
    return "python"


def spawn(cmd: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        cmd,
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def stop(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, signal.SIGKILL)


def start_server(kind: str, port: int, app: str = "config.wsgi") -> Any:
    env = dict(os.environ, PORT=str(port), WEB_ACCESS_LOG="")
    venv = Path(sys.executable).parent
    if kind == "gunicorn":
        cmd = [str(venv / "gunicorn"), app, "-c", "config/gunicorn.py"]
        if app != "config.wsgi":
            cmd += ["--chdir", str(ROOT / "bench")]
    else:
        cmd = [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}"]
        cmd.append("--noreload")
    proc = spawn(cmd, env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/", timeout=5)
            return proc
        except requests.RequestException:
            time.sleep(0.3)
    stop(proc)
    raise RuntimeError(f"{kind} did not start")


def start_workers() -> list[subprocess.Popen[bytes]]:
    """The Procfile's workers (not web, not beat), named apart from any other
    worker on the same broker."""
    procs = []
    tag = f"bench{os.getpid()}"
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        if not command or name.strip() in ("web", "beat"):
            continue
        command = re.sub(r"-n (\w+)@", rf"-n \1-{tag}@", command)
        command = command.replace(".venv/bin/", f"{Path(sys.executable).parent}/")
        procs.append(spawn(command.split(), dict(os.environ)))
    return procs


def wait_for_workers(base: str, count: int) -> dict[str, Any]:
    deadline = time.monotonic() + 90
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        try:
            body = requests.get(f"{base}/up", timeout=10).json()
        except requests.RequestException:
            body = {}
        if body.get("workers", 0) >= count:
            return body
        time.sleep(0.5)
    return body


def session_cpu_seconds(procs: list[subprocess.Popen[bytes]]) -> float:
    """CPU time used so far by every process of these sessions (pool children
    included): /proc, Linux only (0 elsewhere)."""
    sessions = {proc.pid for proc in procs}
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) in sessions:  # field 6 of stat: the session id
            total += int(fields[11]) + int(fields[12])  # utime + stime
    return total / os.sysconf("SC_CLK_TCK")


def wait_until_idle(procs: list[subprocess.Popen[bytes]], limit: float = 60) -> float:
    """Workers warm up after they answer (pool children start, fonts and QR
    caches are warmed): wait until they use under 5 % of a core, so their
    start does not eat the first figure's CPU. Returns the seconds waited."""
    t0 = time.monotonic()
    before = session_cpu_seconds(procs)
    while time.monotonic() - t0 < limit:
        time.sleep(1)
        now = session_cpu_seconds(procs)
        if now - before < 0.05:
            break
        before = now
    return time.monotonic() - t0


# ---------------------------------------------------------------- load
def load(
    url: str, headers: dict[str, str], tool: str
) -> tuple[float, float, float, int]:
    """(requests per second, p50 ms, p95 ms, errors) for CLIENTS concurrent
    keep-alive clients during SECONDS."""
    if tool == "wrk":
        return load_wrk(url, headers)
    if tool == "ab":
        return load_ab(url, headers)
    return load_python(url, headers)


def warm(url: str, headers: dict[str, str], tool: str) -> None:
    """Every server process and thread answers the URL a few times first (a
    fresh process builds its URL resolver, API schema and caches on its first
    requests): the figures are the steady state."""
    global SECONDS
    measured, SECONDS = SECONDS, 2.0
    try:
        load(url, headers, tool)
    finally:
        SECONDS = measured


def load_wrk(url: str, headers: dict[str, str]) -> tuple[float, float, float, int]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT)
    cmd = ["wrk", "-t1", f"-c{CLIENTS}", f"-d{SECONDS:g}s", "--timeout", "30s"]
    cmd += ["-s", script.name]
    for key, value in headers.items():
        cmd += ["-H", f"{key}: {value}"]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    os.unlink(script.name)
    found = re.search(r"BENCH (\d+) (\d+) (\d+) (\d+) (\d+)", out)
    if found is None:
        raise RuntimeError(out)
    count, micros, p50, p95, errors = (int(x) for x in found.groups())
    return count / (micros / 1e6), p50 / 1000, p95 / 1000, errors


def load_ab(url: str, headers: dict[str, str]) -> tuple[float, float, float, int]:
    cmd = ["ab", "-q", "-k", "-c", str(CLIENTS), "-t", f"{SECONDS:g}", "-n", "10000000"]
    for key, value in headers.items():
        cmd += ["-H", f"{key}: {value}"]
    out = subprocess.run([*cmd, url], capture_output=True, text=True).stdout

    def number(pattern: str, default: float = 0.0) -> float:
        found = re.search(pattern, out)
        return float(found.group(1)) if found else default

    return (
        number(r"Requests per second:\s+([\d.]+)"),
        number(r"\n\s+50%\s+(\d+)"),
        number(r"\n\s+95%\s+(\d+)"),
        int(
            number(r"Non-2xx responses:\s+(\d+)") + number(r"Failed requests:\s+(\d+)")
        ),
    )


def load_python(url: str, headers: dict[str, str]) -> tuple[float, float, float, int]:
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    barrier = threading.Barrier(CLIENTS)
    stop_at = [0.0]

    def client() -> None:
        session = requests.Session()
        session.get(url, headers=headers, timeout=60)  # warm the connection
        barrier.wait()
        while time.perf_counter() < stop_at[0]:
            t0 = time.perf_counter()
            response = session.get(url, headers=headers, timeout=60)
            elapsed = (time.perf_counter() - t0) * 1000
            with lock:
                latencies.append(elapsed)
                errors[0] += response.status_code != 200

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    t0 = time.perf_counter()
    stop_at[0] = t0 + 3600
    for thread in threads:
        thread.start()
    time.sleep(0.5)
    t0 = time.perf_counter()
    stop_at[0] = t0 + SECONDS
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - t0
    return (
        len(latencies) / wall,
        percentile(latencies, 50),
        percentile(latencies, 95),
        errors[0],
    )


def up_latency(base: str) -> tuple[float, float, int]:
    session = requests.Session()
    samples: list[float] = []
    workers = 0
    for _ in range(60):
        t0 = time.perf_counter()
        response = session.get(f"{base}/up", timeout=30)
        samples.append((time.perf_counter() - t0) * 1000)
        workers = response.json().get("workers", 0)
    samples = samples[10:]
    return percentile(samples, 50), percentile(samples, 95), workers


def line(kind: str, name: str, figures: tuple[float, float, float, int]) -> None:
    rps, p50, p95, errors = figures
    print(
        f"  {kind:<9} {name:<30} {rps:7.1f} req/s   p50 {p50:7.1f} ms"
        f"   p95 {p95:7.1f} ms   errors/non-200: {errors}",
        flush=True,
    )


def main() -> int:
    setup_django()
    from django.core.management import call_command

    from patolab.reports.models import Report

    call_command("seed_demo", "--force", verbosity=0)
    report = Report.objects.exclude(pdf_file="").order_by("pk").first()
    tool = client_tool()
    print(
        f"web server bench: {CLIENTS} clients, {SECONDS:g} s per figure, client "
        f"{tool}; WEB_CONCURRENCY={os.environ.get('WEB_CONCURRENCY', '(default)')} "
        f"WEB_THREADS={os.environ.get('WEB_THREADS', '(default)')}; {load_average()}",
        flush=True,
    )
    port = free_port()
    proc = start_server("gunicorn", port, app="wsgi_reference:application")
    try:
        line(
            "reference",
            "gunicorn, minimal WSGI app",
            load(f"http://127.0.0.1:{port}/", {}, tool),
        )
    finally:
        stop(proc)

    workers = start_workers()
    try:
        servers = os.environ.get("WEB_BENCH_SERVERS", "gunicorn,runserver")
        for kind in servers.split(","):
            port = free_port()
            proc = start_server(kind, port)
            base = f"http://127.0.0.1:{port}"
            try:
                health = wait_for_workers(base, len(workers))
                waited = wait_until_idle(workers)
                print(
                    f"  {kind}: /up {health} (workers idle after {waited:.0f} s);"
                    f" {load_average()}",
                    flush=True,
                )
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
                    warm(url, auth, tool)
                    line(kind, name, load(url, auth, tool))
                p50, p95, count = up_latency(base)
                print(
                    f"  {kind:<9} {'/up (sequential)':<30} p50 {p50:7.1f} ms"
                    f"   p95 {p95:7.1f} ms   workers: {count}",
                    flush=True,
                )
            finally:
                stop(proc)
    finally:
        for worker in workers:
            stop(worker)
    print(
        "  targets (gunicorn): list p95 <= 150 ms and >= 150 req/s; "
        f"PDF >= 400 req/s; /up <= 20 ms; {load_average()}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
