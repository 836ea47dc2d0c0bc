"""Writes that record an outcome survive a lost database connection."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, OperationalError

from patolab.core.retry import retry_on_lost_connection


def test_a_write_is_repeated_after_a_lost_connection() -> None:
    calls: list[int] = []

    def write() -> int:
        calls.append(1)
        if len(calls) < 3:
            raise OperationalError("server closed the connection unexpectedly")
        return 1

    assert retry_on_lost_connection(write) == 1
    assert len(calls) == 3


def test_it_gives_up_after_its_attempts_and_never_retries_other_errors() -> None:
    calls: list[int] = []

    def lost() -> int:
        calls.append(1)
        raise OperationalError("terminating connection")

    with pytest.raises(OperationalError):
        retry_on_lost_connection(lost, attempts=2)
    assert len(calls) == 2

    def broken() -> int:
        calls.append(1)
        raise IntegrityError("duplicate key")

    with pytest.raises(IntegrityError):
        retry_on_lost_connection(broken)
    assert len(calls) == 3
