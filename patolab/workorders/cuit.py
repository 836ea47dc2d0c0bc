"""CUIT/CUIL validation (AFIP/ARCA modulo-11 check digit)."""

from __future__ import annotations

import re

WEIGHTS = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
# 20/23/24/25/26/27: people (CUIL/CUIT); 30/33/34: companies.
PREFIXES = {"20", "23", "24", "25", "26", "27", "30", "33", "34"}


def cuit_check_digit(first_ten: str) -> int | None:
    """The check digit for 10 digits, or None when none exists (remainder 1:
    AFIP never issues such a number with that prefix)."""
    total = sum(int(d) * w for d, w in zip(first_ten, WEIGHTS, strict=True))
    digit = 11 - total % 11
    if digit == 11:
        return 0
    if digit == 10:
        return None
    return digit


def cuit_normalize(value: str) -> str:
    """Digits only: accepts `20-12345678-6`, `20 12345678 6`, `20123456786`."""
    return re.sub(r"[\s.\-]", "", value or "")


def cuit_is_valid(value: str) -> bool:
    digits = cuit_normalize(value)
    if not re.fullmatch(r"\d{11}", digits) or digits[:2] not in PREFIXES:
        return False
    return cuit_check_digit(digits[:10]) == int(digits[10])


def cuit_format(value: str) -> str:
    """`20-12345678-6` (the printed form); assumes a valid CUIT."""
    digits = cuit_normalize(value)
    return f"{digits[:2]}-{digits[2:10]}-{digits[10]}"
