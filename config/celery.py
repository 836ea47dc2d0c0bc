"""The Celery application. Tasks are autodiscovered from every installed app."""

import os
from typing import Any

from celery import Celery
from celery.signals import worker_process_init

from patolab.core import broker

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# The embedded `sqla+` broker uses our faster channel (see patolab/core/broker.py).
broker.install()

app = Celery("patolab")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_process_init.connect
def _warm_pdf_fonts(**_: Any) -> None:
    """Build the embedded font streams in every pool process as it starts, so
    the first report, work order or label a process renders does not pay for
    them (and a process that renders only labels has them too)."""
    from patolab.core.pdf.fonts import warm_fonts

    warm_fonts()
