from __future__ import annotations

import pytest

from ..cuit import cuit_format, cuit_is_valid


@pytest.mark.parametrize(
    "value",
    ["20-12345678-6", "20123456786", "27-11111111-7", "30-70000000-8", "33-69345023-9"],
)
def test_valid_cuits_pass_the_check_digit(value):
    assert cuit_is_valid(value)


@pytest.mark.parametrize(
    "value",
    [
        "20-12345678-5",  # wrong check digit
        "2012345678",  # 10 digits
        "201234567861",  # 12 digits
        "99-12345678-6",  # unknown prefix
        "20-1234567A-6",
        "",
    ],
)
def test_invalid_cuits_are_rejected(value):
    assert not cuit_is_valid(value)


def test_cuit_is_printed_with_dashes():
    assert cuit_format("20123456786") == "20-12345678-6"


def test_demo_cuits_are_valid():
    from ..demo import CUITS

    assert all(cuit_is_valid(value) for value in CUITS)
