"""Test helper: what a fresh worker process computes, for byte-for-byte checks
against this (warm) process."""

from __future__ import annotations

import subprocess
import sys


def sha256_in_fresh_process(setup: str, expression: str) -> str:
    """The SHA-256 hex digest of the bytes `expression` evaluates to in a new
    Python process, after `django.setup()` and the statements in `setup`."""
    script = (
        "import hashlib, django; django.setup()\n"
        f"{setup}\n"
        f"print(hashlib.sha256({expression}).hexdigest())"
    )
    return subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout.split()[-1]
