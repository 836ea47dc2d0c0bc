"""Shared helpers for the benchmark scripts: Django set-up and percentiles."""

from __future__ import annotations

import os
import statistics
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("FAST_PASSWORD_HASHER", "1")
    import logging

    import django

    django.setup()
    # django-axes logs every (force_)login at INFO: noise between the figures.
    logging.getLogger("axes").setLevel(logging.WARNING)
    # WhiteNoise warns once when `collectstatic` has not run: benches serve none.
    warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)


def percentile(values: Sequence[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def report(name: str, samples_ms: Sequence[float], target: str) -> tuple[float, float]:
    """Print one line: figure, median, p95, target. Returns (median, p95)."""
    median = statistics.median(samples_ms)
    p95 = percentile(samples_ms, 95)
    print(f"  {name:<58} median {median:9.2f} ms   p95 {p95:9.2f} ms   target {target}")
    return median, p95


def load_average() -> str:
    """The 1/5/15-minute load average: read every figure against it (this
    machine's 2 cores are shared)."""
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "load average n/a"
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} ({os.cpu_count()} CPUs)"


def size_line(name: str, nbytes: int, target_kb: float | None) -> None:
    target = f"<= {target_kb:g} KB" if target_kb else "reported"
    print(f"  {name:<58} {nbytes / 1024:9.1f} KB{'':27}target {target}")


def reference_pages(rounds: int = 300) -> None:
    """Same-run references for the render figures: a one-line A4 page with an
    embedded TrueType font (ours, lean and cached) and the same page with
    ReportLab's built-in Helvetica (nothing embedded), timed like the renders."""
    import io
    import time

    from reportlab.pdfgen.canvas import Canvas

    from patolab.core.pdf.fonts import REGULAR, claim_glyphs, warm_fonts

    warm_fonts()

    def one_line(font: str) -> bytes:
        buffer = io.BytesIO()
        canvas = Canvas(buffer, invariant=1, initialFontName=font)
        if font == REGULAR:
            claim_glyphs(canvas, REGULAR)
        canvas.setFont(font, 10)
        canvas.drawString(72, 72, "Informe · ñandú")
        canvas.showPage()
        canvas.save()
        return buffer.getvalue()

    for font, label in ((REGULAR, "embedded TrueType"), ("Helvetica", "Helvetica")):
        one_line(font)
        samples = []
        for _ in range(rounds):
            start = time.perf_counter()
            one_line(font)
            samples.append((time.perf_counter() - start) * 1000)
        report(f"reference: one-line page, {label}", samples, "(reference)")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SmtpSink:
    """aiosmtpd on a free loopback port: accepts every message after `delay`
    seconds and records (monotonic time of acceptance, content) in `accepted`."""

    def __init__(self, delay: float = 0.0) -> None:
        import asyncio
        import logging
        import time
        from typing import Any

        from aiosmtpd.controller import Controller

        logging.getLogger("mail.log").setLevel(logging.WARNING)
        self.delay = delay
        self.accepted: list[tuple[float, bytes]] = []
        self.port = free_port()
        sink = self

        class Handler:
            async def handle_DATA(
                self, server: Any, session: Any, envelope: Any
            ) -> str:
                if sink.delay:
                    await asyncio.sleep(sink.delay)
                sink.accepted.append((time.monotonic(), envelope.content))
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    @property
    def count(self) -> int:
        return len(self.accepted)

    def stop(self) -> None:
        self.controller.stop()
