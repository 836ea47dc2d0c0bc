"""Shared helpers for the benchmark scripts: Django set-up and percentiles."""

from __future__ import annotations

import os
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("FAST_PASSWORD_HASHER", "1")
    import django

    django.setup()


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
