"""Regenerate report PDFs after a template change: `--all` or report ids.

Starts the `reports.regenerate` job on the bulk queue (workers do the work)
and, with --wait, follows its progress; --inline runs it in this process.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from patolab.accounts.models import Role, User
from patolab.core.errors import DomainError
from patolab.jobs.models import Job, JobState
from patolab.jobs.services import Progress, job_succeed
from patolab.reports.services import (
    report_regenerate_execute,
    report_regenerate_start,
)


class Command(BaseCommand):
    help = "Regenerate report PDFs (all finalized reports or the given ids)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("ids", nargs="*", type=int, help="report ids")
        parser.add_argument("--all", action="store_true", help="every finalized report")
        parser.add_argument("--wait", action="store_true", help="follow the job")
        parser.add_argument(
            "--inline", action="store_true", help="run here instead of on a worker"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if bool(options["ids"]) == bool(options["all"]):
            raise CommandError("Give report ids or --all (not both).")
        admin = User.objects.filter(role=Role.ADMIN, is_active=True).first() or (
            User.objects.filter(is_superuser=True).first()
        )
        if admin is None:
            raise CommandError("No admin user exists to own the job.")
        try:
            with transaction.atomic():
                job = report_regenerate_start(
                    user=admin, report_ids=options["ids"], all_reports=options["all"]
                )
                if options["inline"]:
                    # Claim it here so no worker runs it too.
                    Job.objects.filter(pk=job.pk).update(state=JobState.RUNNING)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"job {job.pk} ({job.kind})")
        if options["inline"]:
            job.refresh_from_db()
            result = report_regenerate_execute(job=job, progress=Progress(job))
            job_succeed(job=job, result=result)
            self.stdout.write(str(result["message"]))
            return
        if options["wait"]:
            while True:
                job.refresh_from_db()
                self.stdout.write(
                    f"{job.state} {job.progress_current}/{job.progress_total}"
                )
                if not job.is_active:
                    break
                time.sleep(1)
            self.stdout.write(str((job.result or {}).get("message") or job.error))
