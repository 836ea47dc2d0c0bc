"""The Celery application. Tasks are autodiscovered from every installed app."""

import gc
import os
from typing import Any

from celery import Celery, bootsteps
from celery.signals import worker_process_init

from patolab.core import broker

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# The embedded `sqla+` broker uses our faster channel (see patolab/core/broker.py).
broker.install()

app = Celery("patolab")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def worker_process_warm() -> None:
    """Set up a pool process as it starts (the `worker_process_init` hook;
    the benchmarks call it to measure "per worker process").

    - Build the embedded font streams, so the first report, work order or
      label a process renders does not pay for them (and a process that
      renders only labels has them too).
    - Render a label for the usual protocol URLs (QR tables, formatted PDF
      objects): the first label of a process took 5.9 ms instead of 0.7.
    - Freeze what is loaded by now (Django, the apps, the fonts) out of the
      garbage collector: it is never garbage, and a PDF render allocates
      enough to trigger full collections that walked all of it every few
      reports (measured: 5 ms of collection per report PDF, 0.7 ms frozen).
    """
    from patolab.core.pdf.fonts import warm_fonts
    from patolab.labels.documents import label_warm

    warm_fonts()
    label_warm()
    gc.collect()
    gc.freeze()


@worker_process_init.connect
def _warm_worker_process(**_: Any) -> None:
    worker_process_warm()


class WakeThreadPoolLoop(bootsteps.StartStopStep):  # type: ignore[type-arg]
    """Keep the worker's event loop waking every 50 ms when it runs a thread pool.

    A thread-pool worker (our `emails` worker) acknowledges a finished task from
    the event loop, but nothing wakes that loop when a thread finishes: on Redis
    or RabbitMQ the ack, and with prefetch 1 the next message, waited up to ~5 s
    for unrelated network events (celery/celery#6941), so 50 e-mails through a
    16-thread pool took minutes. A repeating no-op timer entry bounds the wait.
    Prefork workers are woken by their result pipes and need none of this.
    """

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self.entry: Any = None

    def start(self, parent: Any) -> None:
        from celery.concurrency.thread import TaskPool as ThreadTaskPool

        if isinstance(parent.pool, ThreadTaskPool) and parent.hub is not None:
            self.entry = parent.timer.call_repeatedly(0.05, _wake)

    def stop(self, parent: Any) -> None:
        if self.entry is not None:
            self.entry.cancel()
            self.entry = None


def _wake() -> None:
    """Nothing to do: running at all is what wakes the loop."""


app.steps["consumer"].add(WakeThreadPoolLoop)
