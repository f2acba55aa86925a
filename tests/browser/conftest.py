"""A real headless Chromium (Debian's package) driven by Playwright.

``page`` records console errors, page errors and every request that leaves the
server under test, so a test can assert that a page loads cleanly and loads
nothing from outside. Screenshots go to ``test-artifacts/``.
"""
from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from playwright.async_api import expect

from tests.support import ROOT, WAIT, missing

CHROMIUM = os.environ.get("OVERLAY_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
# Without the background-networking flags Chromium tries to reach Google at start;
# this machine has no network, and it must not matter.
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--autoplay-policy=no-user-gesture-required"]
# Every wait_for_* and expect() waits this long for what it expects (Playwright's 5 s / 30 s
# defaults are too short for a slow CI machine); a passing test never waits it out.
WAIT_MS = int(WAIT * 1000)
expect.set_options(timeout=WAIT_MS)


@dataclass
class PageLog:
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    outside_requests: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        assert self.console_errors == [], self.console_errors
        assert self.page_errors == [], self.page_errors
        assert self.outside_requests == [], self.outside_requests


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    if not Path(CHROMIUM).exists():
        missing(f"Chromium at {CHROMIUM}")
    from playwright.async_api import async_playwright
    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        await b.close()


@pytest.fixture
def new_page(browser: Any) -> Any:
    """``page, log = await new_page(allowed_host, **context)``: a page in a fresh context, 1920x1080
    unless ``viewport=`` says otherwise."""
    async def make(allowed: str, **context: Any) -> tuple[Any, PageLog]:
        ctx = await browser.new_context(**{"viewport": {"width": 1920, "height": 1080}, **context})
        ctx.set_default_timeout(WAIT_MS)
        page = await ctx.new_page()
        log = PageLog()
        host = urlparse(allowed).netloc
        # With the address: "Failed to load resource" alone does not say which one.
        page.on("console", lambda m: log.console_errors.append(f"{m.text} [{m.location.get('url', '')}]")
                if m.type == "error" else None)
        page.on("pageerror", lambda e: log.page_errors.append(str(e)))
        page.on("request", lambda r: log.outside_requests.append(r.url)
                if urlparse(r.url).scheme in ("http", "https", "ws", "wss") and urlparse(r.url).netloc != host else None)
        return page, log
    return make


async def animations_done(page: Any) -> None:
    """Wait for every finite animation on the page (entrances, exits) to end, e.g. before a
    screenshot; infinite ones (a scrolling ticker) never do and are left alone."""
    await page.evaluate("""() => Promise.all(document.getAnimations()
        .filter(a => a.effect.getComputedTiming().endTime !== Infinity).map(a => a.finished.catch(() => null)))""")


def screenshot_path(name: str) -> str:
    ARTIFACTS.mkdir(exist_ok=True)
    return str(ARTIFACTS / f"{name}.png")
