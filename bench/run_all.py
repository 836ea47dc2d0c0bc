"""`make bench`: run every bench/*_bench.py against PostgreSQL + Redis when they
answer (the embedded defaults otherwise), on a dedicated `patolab_bench` database."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def main() -> int:
    env = dict(os.environ)
    if not env.get("DATABASE_URL") and answers(5432):
        subprocess.run(
            ["createdb", "-h", "127.0.0.1", "-U", "postgres", "patolab_bench"],
            capture_output=True,
            check=False,
        )
        env["DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/patolab_bench"
    if not env.get("CELERY_BROKER_URL") and answers(6379):
        env["CELERY_BROKER_URL"] = "redis://127.0.0.1:6379/9"
    # Sessions read from a shared Redis cache, as in production (README).
    if not env.get("CACHE_URL") and env.get("CELERY_BROKER_URL", "").startswith(
        "redis://"
    ):
        env["CACHE_URL"] = env["CELERY_BROKER_URL"]
    env.setdefault("PATOLAB_VAR_DIR", str(ROOT / "var" / "bench"))
    one, five, fifteen = os.getloadavg()
    print(f"bench: load average {one:.2f} {five:.2f} {fifteen:.2f}", flush=True)
    env.setdefault("EMAIL_URL", "consolemail://")
    python = sys.executable
    subprocess.run(
        [python, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    failed = 0
    for script in sorted((ROOT / "bench").glob("*_bench.py")):
        print(f"\n== {script.name}", flush=True)
        result = subprocess.run(
            [python, str(script)], cwd=ROOT / "bench", env=env, check=False
        )
        failed += result.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
