"""Start a `system.selftest` job and (optionally) wait for a worker to finish it.

Ops check that the whole path works: database, broker, a worker consuming the
`default` queue. Exit code 0 when the job succeeded, 1 otherwise.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from patolab.jobs.jobs import SELFTEST
from patolab.jobs.models import Job, JobState
from patolab.jobs.services import job_start


class Command(BaseCommand):
    help = "Run a self-test job through the broker and a worker."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--steps", type=int, default=3)
        parser.add_argument("--delay", type=float, default=0.2)
        parser.add_argument(
            "--wait", type=float, default=30.0, help="seconds; 0 = no wait"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            job = job_start(
                kind=SELFTEST,
                params={"steps": options["steps"], "delay": options["delay"]},
            )
        self.stdout.write(f"job {job.pk} queued")
        if not options["wait"]:
            return
        deadline = time.monotonic() + options["wait"]
        while time.monotonic() < deadline:
            job = Job.objects.get(pk=job.pk)
            if job.state == JobState.SUCCEEDED:
                self.stdout.write(f"job {job.pk} succeeded: {job.result}")
                return
            if job.state == JobState.FAILED:
                raise CommandError(f"job {job.pk} failed: {job.error}")
            time.sleep(0.2)
        raise CommandError(
            f"job {job.pk} not finished after {options['wait']}s ({job.state})"
        )
