"""The Donation sources panel in a real Chromium: each source's health and "Send test event"."""
from __future__ import annotations

import json
from typing import Any

from playwright.async_api import expect

from tests.browser.dashboard_support import log_in
from tests.test_webhooks_e2e import GENERIC_SECRET, WEBHOOKS
from tests.webhook_signing import generic_headers


async def test_the_panel_shows_health_and_sends_a_test_event_that_plays_and_never_counts(
        make_server: Any, new_page: Any) -> None:
    server = await make_server(webhooks=WEBHOOKS)
    raw = json.dumps({"external_id": "forged", "amount": "5.00"}).encode()
    status, _ = await server.post("/webhooks/demo/generic", data=raw, headers=generic_headers(raw, "not-the-secret"))
    assert status == 401 and GENERIC_SECRET
    overlay = await server.listen("/overlay")
    await overlay.wait_for("state")
    page, log = await new_page(server.url)
    await log_in(page, server.url)
    generic = page.locator('#integration-list li[data-role="source"][data-provider="generic"]')
    await expect(generic).to_contain_text("0 accepted, 1 refused, 0 failed")
    await generic.get_by_role("button", name="Send test event").click()
    play = await overlay.wait_for("alert", lambda e: e["action"] == "play")
    assert play["donation"]["test"] is True and play["donation"]["external_id"].startswith("overlay-test-")
    await expect(page.get_by_text("generic: test event accepted (HTTP 200)")).to_be_visible()
    await expect(page.locator("#campaign-count")).to_have_text("0 donations")
    await expect(generic).to_contain_text("0 accepted, 1 refused, 0 failed")
    log.assert_clean()
