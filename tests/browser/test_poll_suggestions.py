"""A donor's suggested poll option in a real Chromium: waiting in the dashboard, accepted by a
moderator, then shown by the poll widget (and never before)."""
from __future__ import annotations

from typing import Any

from playwright.async_api import expect

from tests.browser.conftest import screenshot_path
from tests.browser.dashboard_support import log_in
from tests.browser.test_widgets import open_overlay

POLL = {"id": "game", "kind": "poll", "title": "Next game", "allow_suggestions": True,
        "options": [{"id": "celeste", "label": "Celeste"}, {"id": "hades", "label": "Hades"}]}


async def test_moderator_accepts_a_suggestion_and_the_poll_shows_it(make_server: Any, new_page: Any) -> None:
    server = await make_server(match=None, incentives=[POLL])
    widget, widget_log = await open_overlay(new_page, server, "poll")
    await widget.wait_for_selector(".w-poll .poll__label:text('Hades')")
    page, log = await new_page(server.url)
    await log_in(page, server.url)
    row = page.locator('.incentive[data-id="game"]')
    await expect(row.locator(".incentive-summary")).to_have_text("No votes yet")

    await server.donate(amount="5.00", incentive={"id": "game", "option": "hades"})
    d = await server.donate(amount="12.00", donor_name="Ana", incentive={"id": "game", "suggestion": "Hollow Knight"})
    suggestion = row.locator(f'.suggestion[data-donation="{d["id"]}"]')
    await expect(suggestion.locator(".suggestion-text")).to_have_text("Hollow Knight · 12,00\u00a0€")
    await expect(row.locator(".incentive-summary")).to_contain_text("unallocated 12,00\u00a0€")
    # Waiting: the poll widget has heard the money arrive but shows no new option.
    await widget.wait_for_selector(".w-poll .is-leader .poll__label:text('Hades')")
    assert await widget.locator(".w-poll .poll__label").all_text_contents() == ["Celeste", "Hades"]
    await page.locator("#incentives").screenshot(path=screenshot_path("dashboard-poll-suggestion"))

    await suggestion.get_by_role("button", name="Accept Hollow Knight").click()
    await expect(suggestion).to_have_count(0)
    await expect(row.locator(".incentive-summary")).to_contain_text("Hollow Knight leads by 7,00\u00a0€")
    await widget.wait_for_selector(".w-poll .is-leader .poll__label:text('Hollow Knight')")
    assert await widget.locator(".w-poll .poll__label").all_text_contents() == ["Celeste", "Hades", "Hollow Knight"]
    await page.locator("#incentives").screenshot(path=screenshot_path("dashboard-poll-suggestion-accepted"))
    await widget.screenshot(path=screenshot_path("widget-poll-suggestion-accepted"))
    log.assert_clean()
    widget_log.assert_clean()
