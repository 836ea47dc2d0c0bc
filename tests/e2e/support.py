"""Fixtures and helpers of the staff/pathologist browser tests (issue 10):
a page at desktop (1366x900) and phone (390x844) size, log in, screenshots,
horizontal overflow."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from conftest import PASSWORD, ROOT

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SIZES = {
    "desktop": {"width": 1366, "height": 900},
    "phone": {"width": 390, "height": 844},
}
OUT = ROOT / "test-output" / "e2e"


@pytest.fixture(name="page", params=sorted(SIZES))
def sized_page(request, live_server):
    """A Chromium page at each size in turn (import `sized_page` to use it)."""
    if not Path(CHROMIUM).exists() and os.environ.get("CI"):
        pytest.fail("CI must have Debian's chromium at /usr/bin/chromium")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    size = SIZES[request.param]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(
            viewport=size, locale="es-AR", is_mobile=size["width"] < 500
        )
        page = context.new_page()
        page.set_default_timeout(20_000)
        page.size_name = request.param
        yield page
        context.close()
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def log_in(page, base: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/cuentas/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{base}/")


def shot(page, name: str) -> None:
    """Full-page screenshot `<name>-<size>.png` in test-output/e2e/."""
    page.screenshot(path=str(OUT / f"{name}-{page.size_name}.png"), full_page=True)


def overflow(page) -> int:
    return page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


def body_text(page) -> str:
    return re.sub(r"\s+", " ", page.inner_text("main"))
