"""The admin page in a real Chromium: log in, create a channel (its secrets shown once), search,
disable and enable it, in English and French."""
from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

from tests.admin_support import ADMIN, ADMIN_TOKEN, CHANNELS, admin_server  # noqa: F401 - a fixture
from tests.browser.conftest import screenshot_path


@pytest.fixture
def backend() -> str:
    return "embedded"


async def log_in(page: Any, url: str, token: str = ADMIN_TOKEN) -> None:
    await page.goto(url)
    await page.fill("#token", token)
    await page.click("button[type=submit]")


async def test_an_admin_creates_and_disables_a_channel_from_the_page(admin_server: Any, new_page: Any) -> None:
    page, log = await new_page(admin_server.url)
    await log_in(page, f"{admin_server.url}/admin?lang=en", "not-the-admin-token-xx")
    await expect(page.locator("#login-error")).to_have_text("That admin token is not valid.")
    await log_in(page, f"{admin_server.url}/admin?lang=en")
    await expect(page.locator("#channels tbody tr[data-id=demo]")).to_contain_text("config.yaml")
    await page.fill("#new-name", "Cause Streamer")
    await expect(page.locator("#new-id")).to_have_value("cause-streamer")
    await page.fill("#new-goal", "250")
    await page.click("#create button[type=submit]")
    await expect(page.locator("#secrets")).to_be_visible()
    token = await page.locator("#secret-token").text_content()
    key = await page.locator("#secret-key").text_content()
    assert token and key and f"/overlay/cause-streamer/alert?key={key}" in await page.locator("#secret-urls").inner_text()
    status, body = await admin_server.post("/api/v1/channels/cause-streamer/donations", {"amount": "3"},
                                           headers={"Authorization": f"Bearer {token}"})
    assert status == 201, body
    row = page.locator("#channels tbody tr[data-id=cause-streamer]")
    await expect(row.locator(".status")).to_have_text("enabled")
    await page.fill("#q", "cause")
    await page.click("#search button")
    await expect(page.locator("#channels tbody tr")).to_have_count(1)
    await row.locator("button[data-action=disable]").click()
    await expect(row.locator(".status")).to_have_text("disabled")
    assert (await admin_server.request("GET", f"{CHANNELS}/cause-streamer", headers=ADMIN))[1]["disabled"] is True
    await row.locator("button[data-action=enable]").click()
    await expect(row.locator(".status")).to_have_text("enabled")
    await page.screenshot(path=screenshot_path("admin"))
    cookies = await page.context.cookies()
    assert [(c["name"], c["httpOnly"], c["sameSite"]) for c in cookies] == [("overlay_session__admin", True, "Strict")]
    assert ADMIN_TOKEN not in await page.content()
    await page.goto(f"{admin_server.url}/admin?lang=fr")
    await expect(page.locator("h1")).to_have_text("Chaînes")
    await expect(row.locator(".status")).to_have_text("active")
    log.console_errors = [e for e in log.console_errors if "401" not in e]  # the refused login above
    log.assert_clean()
