"""Beat's part in the drills: this (test) process runs the sweepers the way
beat would, with shrunk thresholds, while worker subprocesses do the work."""

from __future__ import annotations

from typing import Any

from patolab.jobs.services import job_sweep
from patolab.notifications.services import email_log_sweep

# What the sweepers of this process use (beat's job in production): a running
# job silent for 3 s lost its worker; a queued job or e-mail whose message sat
# 8 s in a dead worker's prefetch (or was never sent: a worker killed between
# a commit and its publish) is re-sent. Workers beat every second.
FAST_SWEEP = {
    "JOBS_STALE_RUNNING_SECONDS": 3,
    "JOBS_STUCK_QUEUED_SECONDS": 8,
    "EMAIL_SENDING_STALE_SECONDS": 3,
    "EMAIL_QUEUED_STALE_SECONDS": 8,
}
WORKER_ENV = {"JOBS_HEARTBEAT_SECONDS": "1", "EMAIL_SENDING_STALE_SECONDS": "3"}


def fast_sweeps(settings: Any) -> None:
    for name, value in FAST_SWEEP.items():
        setattr(settings, name, value)


def sweep() -> None:
    """What beat runs every JOBS_SWEEP_EVERY_SECONDS / EMAIL_SWEEP_EVERY_SECONDS."""
    job_sweep()
    email_log_sweep()
