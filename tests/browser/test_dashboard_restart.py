"""The dashboard shares the overlays' connection module (static/overlay-client.js): across a
server restart it reconnects by itself and replays what it missed; a session that ended
while it was away is refused, and the page says so instead of retrying for ever."""
from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import aiohttp
from playwright.async_api import expect

from tests.browser.conftest import screenshot_path
from tests.browser.dashboard_support import log_in
from tests.browser.test_overlay_restart import RECONNECT_S, donate, stop, write_config
from tests.support import ServerProcess, free_port


async def test_dashboard_reconnects_after_a_restart_and_replays_what_it_missed(
        tmp_path: Path, new_page: Any) -> None:
    port = free_port()
    config = write_config(tmp_path, port)
    first = await ServerProcess(config, port).start()
    second = ServerProcess(config, port)
    try:
        page, log = await new_page(first.url)
        await log_in(page, first.url)
        async with aiohttp.ClientSession() as http:
            await donate(http, first.url, amount="5.00", donor_name="Before")
            await expect(page.locator("#feed-body tr", has_text="Before")).to_be_visible()

            assert first.signal(signal.SIGTERM) == 0
            await expect(page.locator("#conn")).to_have_attribute("data-state", "lost")
            await second.start()
            await donate(http, second.url, amount="7.00", donor_name="While away")
            await expect(page.locator("#conn")).to_have_attribute("data-state", "live", timeout=RECONNECT_S * 1000)
            await expect(page.locator("#feed-body tr", has_text="While away")).to_be_visible()
            await donate(http, second.url, amount="9.00", donor_name="After")
            await expect(page.locator("#feed-body tr", has_text="After")).to_be_visible()
        # Each donation once: a replay after last_seq, not a second copy.
        await expect(page.locator("#feed-body tr")).to_have_count(3)
        await expect(page.locator("#session-banner")).to_be_hidden()
        await page.screenshot(path=screenshot_path("dashboard-after-restart"))
        # The browser itself logs the refused connections while the server is down; no script error.
        assert log.page_errors == []
    finally:
        stop(first, second)


async def test_a_session_ended_while_away_is_refused_on_reconnect(tmp_path: Path, new_page: Any) -> None:
    port = free_port()
    first = await ServerProcess(write_config(tmp_path, port), port).start()
    second = None
    try:
        page, _ = await new_page(first.url)
        await log_in(page, first.url)
        assert first.signal(signal.SIGTERM) == 0
        await expect(page.locator("#conn")).to_have_attribute("data-state", "lost")
        # The streamer replaced the moderator token: sessions opened with the old one are over.
        config = write_config(tmp_path, port, moderator_tokens=["a-new-moderator-token-0123456789"])
        second = await ServerProcess(config, port).start()
        await expect(page.locator("#session-banner")).to_be_visible(timeout=RECONNECT_S * 1000)
        await expect(page.locator("#conn")).to_have_text("Your session has ended. Reload the page to log in again.")
        await page.screenshot(path=screenshot_path("dashboard-session-ended"))
    finally:
        stop(first, second)
