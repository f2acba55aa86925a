"""Pending pledges in the dashboard: Confirm counts one (its alert plays), Reject drops the other."""
from __future__ import annotations

from typing import Any

from playwright.async_api import expect

from tests.browser.conftest import screenshot_path
from tests.browser.dashboard_support import log_in
from tests.pledging import pledge

WAIT = 15.0


def ids_seen(listener: Any, *events: str) -> set[str]:
    return {data["donation"]["id"] for name, data in listener.events if name in events and data.get("donation")}


async def test_confirm_and_reject_pending_pledges_from_the_feed(make_server: Any, new_page: Any,
                                                               backend: str) -> None:
    server = await make_server(backend=backend)
    overlay = await server.listen("/overlay")
    await overlay.wait_for("state")
    page, log = await new_page(server.url)
    await log_in(page, server.url)

    kept = await pledge(server, "20.00", "Léa", "Allez les Restos !")
    dropped = await pledge(server, "999.00", "Troll", "a pledge nobody should see")
    rows = page.locator("#feed-body tr")
    await expect(rows).to_have_count(2)
    await page.get_by_label("Status").select_option("pending")
    await expect(page.locator("#feed-body tr:visible")).to_have_count(2)
    lea, troll = rows.filter(has_text="Léa"), rows.filter(has_text="Troll")
    await expect(lea).to_contain_text("pending")
    await expect(lea.get_by_role("button", name="Confirm the pledge of 20,00 € from Léa")).to_be_visible()
    # Pending pledges count nowhere: the campaign still reads zero.
    await expect(page.locator("#campaign-count")).to_have_text("0 donations")
    await page.screenshot(path=screenshot_path("dashboard-pending-pledges"))

    await lea.get_by_role("button", name="Confirm").click()
    shown = await overlay.wait_for("donation", lambda e: e["donation"]["id"] == kept, timeout=WAIT)
    assert (shown["donation"]["matched"], shown["campaign"]["total"]) == ("20.00", "40.00")
    await overlay.wait_for("alert", lambda e: e["action"] == "play" and e["donation"]["id"] == kept, timeout=WAIT)
    await expect(page.locator("#campaign-count")).to_have_text("1 donation")
    await expect(page.locator("#feed-body tr:visible")).to_have_count(1)  # Léa's left the "pending" filter

    await troll.get_by_role("button", name="Reject").click()
    await expect(page.locator("#feed-body tr:visible")).to_have_count(0)
    await expect(page.locator("#feed-empty")).to_be_visible()
    await page.get_by_label("Status").select_option("")
    await expect(troll).to_contain_text("rejected")
    await expect(lea).to_contain_text("approved")
    await expect(troll.get_by_role("button")).to_have_count(0)

    later = await server.donate(amount="5.00", donor_name="Bob")  # must arrive after anything earlier
    await overlay.wait_for("donation", lambda e: e["donation"]["id"] == later["id"], timeout=WAIT)
    assert dropped not in ids_seen(overlay, "donation", "alert")
    assert all("nobody should see" not in str(data) for _, data in overlay.events)
    await expect(page.locator("#campaign-count")).to_have_text("2 donations")
    await page.screenshot(path=screenshot_path("dashboard-pledges-decided"))
    log.assert_clean()
