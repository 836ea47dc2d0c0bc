"""Gap-free counters: definitive protocol numbers and temporary codes."""

from __future__ import annotations

from datetime import date

from django.db import transaction

from ..models import ANALYSIS_PREFIX, AnalysisType, Counter


def counter_next(*, key: str) -> int:
    """Increment and return the counter `key`, holding its row lock until the
    caller's transaction ends.

    Gap-free because the increment commits or rolls back together with the row
    that uses the value. Must run inside a transaction (it opens one if needed,
    but then the lock is released before the caller saves its row)."""
    with transaction.atomic():
        # Create the row if missing without racing: a concurrent first insert
        # is ignored instead of raising IntegrityError.
        Counter.objects.bulk_create([Counter(key=key, value=0)], ignore_conflicts=True)
        # The row lock serialises concurrent callers: each waits for the
        # previous transaction to commit and then reads its value.
        counter = Counter.objects.select_for_update().get(key=key)
        counter.value += 1
        counter.save(update_fields=["value"])
        return counter.value


def _prefix(analysis_type: str) -> str:
    return ANALYSIS_PREFIX[AnalysisType(analysis_type)]


def protocol_number_format(*, analysis_type: str, year: int, seq: int) -> str:
    return f"{_prefix(analysis_type)} {year % 100:02d}/{seq:03d}"


def protocol_number_next(*, analysis_type: str, year: int) -> str:
    """Next definitive number `CT YY/NNN` / `HP YY/NNN` (per type, per year).

    Call inside the transaction that stores the number on the protocol, so a
    rollback returns the number (no gaps) and concurrent receptions wait on the
    counter's row lock (no duplicates)."""
    seq = counter_next(key=f"protocol:{_prefix(analysis_type)}:{year}")
    return protocol_number_format(analysis_type=analysis_type, year=year, seq=seq)


def temporary_code_next(*, analysis_type: str, day: date) -> str:
    """Next temporary code `TMP-HP-YYYYMMDD-NNN` (per type, per day)."""
    prefix = _prefix(analysis_type)
    seq = counter_next(key=f"tmp:{prefix}:{day:%Y%m%d}")
    return f"TMP-{prefix}-{day:%Y%m%d}-{seq:03d}"
