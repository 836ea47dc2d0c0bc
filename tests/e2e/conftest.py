"""Browser fixtures shared by every end-to-end test: one headless Debian Chromium
per test, a page per test at desktop (1366x900) or phone (390x844) size."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.helpers import CHROMIUM, CHROMIUM_ARGS, DESKTOP, OUT


# Function scope: a session-long Playwright loop would break tests that start
# their own `sync_playwright()` (one loop per thread); a launch costs ~0.3 s.
@pytest.fixture
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists() and os.environ.get("CI"):
        pytest.fail("CI must have Debian's chromium at /usr/bin/chromium")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed")
    # Playwright's sync API runs an event loop in this thread; the Django ORM
    # calls tests make between steps are still synchronous and safe here.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def new_page(browser: Any) -> Iterator[Callable[..., Any]]:
    """Factory: `new_page(viewport=PHONE)` opens a page in a fresh context
    (own cookies); every context is closed after the test."""
    contexts: list[Any] = []

    def make(viewport: dict[str, int] = DESKTOP) -> Any:
        context = browser.new_context(
            viewport=viewport,
            locale="es-AR",
            is_mobile=viewport["width"] < 500,
            has_touch=viewport["width"] < 500,
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def browser_page(new_page: Callable[..., Any], live_server: Any) -> Any:
    """A desktop-size page (the common case)."""
    return new_page()
