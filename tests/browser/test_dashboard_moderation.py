"""Screening held messages, and donor text that tries to be code, in the dashboard."""
from __future__ import annotations

from typing import Any

from playwright.async_api import expect

from tests.browser.conftest import screenshot_path
from tests.browser.dashboard_support import log_in

HOLD = {"hold": "messages", "banned_words": ["troll"]}


def ids_seen(listener: Any, event: str) -> set[str]:
    return {e["donation"]["id"] for e in listener.of(event) if e.get("donation")}


async def test_held_message_reaches_overlays_only_once_approved_and_rejected_never(
        make_server: Any, new_page: Any, backend: str) -> None:
    server = await make_server(backend=backend, moderation=HOLD)
    overlay = await server.listen("/overlay")
    await overlay.wait_for("state")
    page, log = await new_page(server.url)
    await log_in(page, server.url)

    kept = await server.donate(amount="10", donor_name="Mallory", message="you TROLL, nice stream")
    dropped = await server.donate(amount="4", donor_name="Eve", message="a message nobody should see")
    assert kept["status"] == dropped["status"] == "held"
    held = page.locator("#held-list li")
    await expect(held).to_have_count(2)
    first = held.filter(has_text="Mallory")
    await expect(first.locator("mark")).to_have_text("TROLL")  # the unmasked word, highlighted
    await expect(first).to_contain_text("you TROLL, nice stream")
    # Held money counts at once; only the alert and message wait.
    await expect(page.locator("#campaign-count")).to_have_text("2 donations")
    await overlay.wait_for("progress", lambda e: e["campaign"]["count"] == 2)
    await page.screenshot(path=screenshot_path("dashboard-screening"))
    assert not ids_seen(overlay, "donation") and not ids_seen(overlay, "alert")

    await first.get_by_role("button", name="Approve").click()
    shown = await overlay.wait_for("donation", lambda e: e["donation"]["id"] == kept["id"])
    assert shown["donation"]["message"] == "you *****, nice stream"
    await overlay.wait_for("alert", lambda e: e["action"] == "play" and e["donation"]["id"] == kept["id"])
    await expect(held).to_have_count(1)
    # Focus moved to the next held message, so a keyboard user can go on.
    await expect(held.filter(has_text="Eve").get_by_role("button", name="Approve")).to_be_focused()

    await held.filter(has_text="Eve").get_by_role("button", name="Reject").click()
    await expect(held).to_have_count(0)
    await expect(page.locator("#screening-empty")).to_be_visible()
    await expect(page.locator("#feed-body tr", has_text="Eve")).to_contain_text("rejected")
    await page.get_by_label("Status").select_option("rejected")
    await expect(page.locator("#feed-body tr:visible")).to_have_count(1)
    # Events reach the overlay in seq order: once a donation made now has arrived, anything
    # the rejection sent it would have arrived before.
    later = await server.donate(amount="2", donor_name="Later")
    await overlay.wait_for("donation", lambda e: e["donation"]["id"] == later["id"])
    assert dropped["id"] not in ids_seen(overlay, "donation") | ids_seen(overlay, "alert")
    assert all("nobody should see" not in str(data) for _, data in overlay.events)
    log.assert_clean()


async def test_feed_filters_by_status_and_searches_donors(make_server: Any, new_page: Any) -> None:
    server = await make_server(moderation={"hold": "messages"})
    page, log = await new_page(server.url)
    await log_in(page, server.url)
    await server.donate(amount="3", donor_name="Zoé")
    await server.donate(amount="4", donor_name="Yann", message="held one")
    await server.donate(amount="5", test=True, donor_name="Tester")
    rows = page.locator("#feed-body tr:visible")
    await expect(rows).to_have_count(3)
    await page.get_by_label("Status").select_option("held")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("Yann")
    await page.get_by_label("Status").select_option("test")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("Tester")
    await page.get_by_label("Status").select_option("")
    await page.get_by_label("Search donor").fill("zo")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("Zoé")
    await page.get_by_label("Search donor").fill("nobody")
    await expect(page.locator("#feed-empty")).to_have_text("No donation matches the filter.")
    log.assert_clean()


HOSTILE_NAME = '<img src=x onerror="window.pwned=1">'
HOSTILE_MESSAGE = '<script>window.pwned=2</script><b>bold</b> troll <a href="javascript:window.pwned=3">x</a>'


async def test_hostile_donor_text_is_inert_in_the_dashboard(make_server: Any, new_page: Any) -> None:
    server = await make_server(moderation=HOLD)
    overlay = await server.listen("/overlay")
    await overlay.wait_for("state")
    page, log = await new_page(server.url)
    dialogs: list[str] = []
    page.on("dialog", lambda d: dialogs.append(d.message))
    await log_in(page, server.url)
    await server.donate(amount="9", donor_name=HOSTILE_NAME, message=HOSTILE_MESSAGE)
    await page.get_by_label("Name", exact=True).fill(HOSTILE_NAME)
    await page.get_by_role("button", name="Send test donation").click()
    play = await overlay.wait_for("alert", lambda e: e["action"] == "play")
    assert play["donation"]["donor_name"] == HOSTILE_NAME  # stored as text, shown as text

    card = page.locator("#held-list li")
    await expect(card).to_contain_text(HOSTILE_MESSAGE)
    await expect(card.locator("mark")).to_have_text("troll")
    await expect(page.locator("#feed-body tr")).to_have_count(2)
    for row in await page.locator("#feed-body tr").all():
        await expect(row).to_contain_text(HOSTILE_NAME)
    await expect(page.locator("#now-playing")).to_contain_text(HOSTILE_NAME)
    for selector in ("img", "script:not([src])", "b", "a[href^=javascript]"):
        assert await page.locator(f"main {selector}").count() == 0, selector
    assert await page.evaluate("window.pwned") is None and dialogs == []
    await page.screenshot(path=screenshot_path("dashboard-hostile-text"))
    log.assert_clean()
