"""The staff/pathologist browser tests (issue 10) run each flow at desktop
(1366x900) and phone (390x844) size: a `page` fixture parametrized by size on
top of the shared `new_page` fixture, and small helpers around tests.e2e.helpers."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.e2e.helpers import SIZES, axe_violations, describe, horizontal_overflow
from tests.e2e.helpers import log_in as _log_in
from tests.e2e.helpers import shot as _shot


@pytest.fixture(name="page", params=sorted(SIZES))
def sized_page(request: Any, new_page: Any, live_server: Any) -> Any:
    """A Chromium page at each size in turn (import `sized_page` to use it)."""
    page = new_page(viewport=SIZES[request.param])
    page.set_default_timeout(20_000)
    page.size_name = request.param
    return page


def log_in(page: Any, base: str, username: str) -> None:
    _log_in(page, base, username)


def shot(page: Any, name: str) -> None:
    """Full-page screenshot `<name>-<size>.png` in test-output/e2e/."""
    _shot(page, f"{name}-{page.size_name}")


def overflow(page: Any) -> int:
    return horizontal_overflow(page)


def body_text(page: Any) -> str:
    return re.sub(r"\s+", " ", page.inner_text("main"))


def assert_accessible(page: Any) -> None:
    """No serious or critical axe-core violation on the current page."""
    found = axe_violations(page)
    assert not found, describe(found)
