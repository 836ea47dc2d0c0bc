"""Create (idempotently) the demo lab: users for every role and each app's data.

Each app may provide `<app>/demo.py` with `seed(stdout) -> None`; they run in
INSTALLED_APPS order. Refuses to run with DEBUG off unless --force is given.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

DEMO_PASSWORD = "patolab-demo"  # noqa: S105 - demo only, printed on purpose


class Command(BaseCommand):
    help = "Seed the demo lab (idempotent). Demo only: never in production."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force", action="store_true", help="run even with DEBUG off"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["force"]:
            raise CommandError("seed_demo refuses to run with DEBUG off (use --force).")
        for config in apps.get_app_configs():
            if not config.name.startswith("patolab."):
                continue
            try:
                module = import_module(f"{config.name}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.demo":
                    raise
                continue
            with transaction.atomic():
                module.seed(self.stdout)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
