"""Job kinds used only by the test-suite (loaded via PATOLAB_JOB_MODULES, so
subprocess workers know them too)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from patolab.jobs.models import Job
from patolab.jobs.registry import TransientJobError, register
from patolab.jobs.services import Progress


@register("test.flaky", max_attempts=4)
def flaky(job: Job, progress: Progress) -> dict[str, Any]:
    """Fails transiently on the first `fail_times` attempts, then succeeds."""
    if job.attempts <= int(job.params.get("fail_times", 1)):
        raise TransientJobError(f"transient failure on attempt {job.attempts}")
    progress(1, 1)
    return {"attempt": job.attempts}


@register("test.broken", max_attempts=2)
def broken(job: Job, progress: Progress) -> dict[str, Any]:
    """Always fails with a transient error until attempts run out, unless the
    file named by `fixed_flag` exists (a fix the operator made before retrying)."""
    flag = job.params.get("fixed_flag")
    if flag and Path(flag).exists():
        return {"fixed": True}
    raise TransientJobError("El servidor de archivos no responde")


@register("test.effect", max_attempts=3)
def effect(job: Job, progress: Progress) -> dict[str, Any]:
    """Works for `seconds`, then performs its effect once: creating a marker file
    (O_EXCL) and appending a line to `effects.log`. Check-before-act makes a
    second run a no-op for the effect."""
    directory = Path(job.params["dir"])
    seconds = float(job.params.get("seconds", 1))
    steps = 10
    for step in range(steps):
        time.sleep(seconds / steps)
        progress(step + 1, steps + 1)
    marker = directory / f"done-{job.pk}"
    try:
        fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return {"effect": "already done"}
    os.close(fd)
    with (directory / "effects.log").open("a") as log:
        log.write(f"{job.pk}\n")
    progress(steps + 1, steps + 1)
    return {"effect": "done"}


@register("test.poison", max_attempts=10)
def poison(job: Job, progress: Progress) -> dict[str, Any]:
    """Kills the process running it (like a segfault or the OOM killer), every
    time it is claimed."""
    import signal

    os.kill(os.getpid(), signal.SIGKILL)
    return {}


@register("test.db_lost", max_attempts=3)
def db_lost(job: Job, progress: Progress) -> dict[str, Any]:
    """Loses its database connection on the first attempt (what a handler sees
    when PostgreSQL drops it), then succeeds."""
    if job.attempts == 1:
        from django.db import OperationalError

        raise OperationalError("terminating connection due to administrator command")
    return {"attempt": job.attempts}


# A renderer version bump for worker subprocesses (the failure drills): a
# subprocess cannot be monkeypatched, so the new version comes from the
# environment when this module is loaded (PATOLAB_JOB_MODULES).
if os.environ.get("TEST_REPORT_RENDERER_VERSION"):
    from patolab.reports import pdf as _report_pdf

    _report_pdf.RENDERER_VERSION = os.environ["TEST_REPORT_RENDERER_VERSION"]
