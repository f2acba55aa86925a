"""The dashboard's Incentives panel in a real Chromium: create, edit, close, reopen and delete;
move a donation; tick rewards as given; edit milestones. Checked against the REST API."""
from __future__ import annotations

from typing import Any

from playwright.async_api import expect

from tests.browser.conftest import screenshot_path
from tests.browser.dashboard_support import log_in

BASE = "/api/v1/channels/demo"
REWARD = {"id": "shout", "kind": "reward", "title": "Your name on stream", "min_amount": "20.00", "quantity": 3}


async def incentive(server: Any, incentive_id: str) -> dict[str, Any]:
    _, body = await server.request("GET", f"{BASE}/incentives")
    return next(i for i in body if i["id"] == incentive_id)


async def test_moderator_runs_a_poll_from_the_dashboard(make_server: Any, new_page: Any) -> None:
    server = await make_server(match=None)
    page, log = await new_page(server.url)
    await log_in(page, server.url)
    panel = page.locator("#incentives")
    await expect(page.locator("#incentives-empty")).to_be_visible()

    await page.locator("#incentive-editor summary").click()
    await page.select_option("#incentive-kind", "poll")
    await page.fill("#incentive-id", "boss")
    await page.fill("#incentive-title", "Kill or save")
    await page.fill("#incentive-options", "Kill the boss\nSave the boss")
    await panel.get_by_role("button", name="Save", exact=True).click()
    row = page.locator('.incentive[data-id="boss"]')
    await expect(row.locator(".incentive-summary")).to_have_text("No votes yet")
    assert [o["id"] for o in (await incentive(server, "boss"))["options"]] == ["kill-the-boss", "save-the-boss"]

    d = await server.donate(amount="7.00", donor_name="Ana", incentive={"id": "boss", "option": "kill-the-boss"})
    await expect(row.locator(".incentive-summary")).to_contain_text("Kill the boss leads by 7,00\u00a0€")
    await expect(page.locator(f'#feed-body tr[data-id="{d["id"]}"] .incentive-tag')).to_have_text(
        "Kill or save → Kill the boss")

    await page.select_option("#move-donation", d["id"])
    await page.select_option("#move-to", "boss:save-the-boss")
    await page.locator("#move-form").get_by_role("button", name="Move").click()
    await expect(row.locator(".incentive-summary")).to_contain_text("Save the boss leads by 7,00\u00a0€")
    assert [o["total"] for o in (await incentive(server, "boss"))["options"]] == ["0.00", "7.00"]

    await row.get_by_role("button", name="Close Kill or save").click()
    await expect(row.locator(".incentive-summary")).to_have_text("Winner: Save the boss")
    status, body = await server.post(f"{BASE}/donations", {"amount": "5.00", "incentive": {"id": "boss",
                                                                                            "option": "kill-the-boss"}})
    assert (status, body["error"]["code"]) == (409, "incentive_closed")
    await row.get_by_role("button", name="Reopen Kill or save").click()
    await expect(row.locator(".badge.ok")).to_have_text("open")

    await row.get_by_role("button", name="Edit Kill or save").click()
    await page.fill("#incentive-title", "Boss fate")
    await page.fill("#incentive-options", "Kill the boss\nSave the boss\nBefriend it")
    await panel.get_by_role("button", name="Save", exact=True).click()
    await expect(page.locator('.incentive[data-id="boss"] .incentive-title')).to_have_text("Boss fate")
    after = await incentive(server, "boss")
    assert [(o["id"], o["total"]) for o in after["options"]] == [
        ("kill-the-boss", "0.00"), ("save-the-boss", "7.00"), ("befriend-it", "0.00")]
    await page.screenshot(path=screenshot_path("dashboard-incentives"), full_page=True)

    page.once("dialog", lambda dialog: dialog.accept())
    await page.locator('.incentive[data-id="boss"]').get_by_role("button", name="Delete Boss fate").click()
    await expect(page.locator('.incentive[data-id="boss"]')).to_have_count(0)
    log.assert_clean()


async def test_rewards_to_fulfil_and_milestones(make_server: Any, new_page: Any) -> None:
    server = await make_server(incentives=[REWARD], campaign={"title": "T", "goal": "1000.00", "milestones": ["50.00"]})
    first = await server.donate(amount="25.00", donor_name="Zoé", incentive={"id": "shout"})
    await server.donate(amount="30.00", donor_name="Lou", incentive={"id": "shout"})
    page, log = await new_page(server.url)
    await log_in(page, server.url)
    await expect(page.locator("#reward-list li")).to_have_count(2)
    await expect(page.locator("#rewards-count")).to_have_text("2")
    await page.get_by_label("Given: Zoé, Your name on stream").check()
    await expect(page.locator("#rewards-count")).to_have_text("1")
    _, body = await server.request("GET", f"{BASE}/rewards")
    assert {r["donation"]["id"]: r["fulfilled"] for r in body["rewards"]}[first["id"]] is True
    await page.reload()
    await expect(page.locator("#conn")).to_have_attribute("data-state", "live")
    await expect(page.get_by_label("Given: Zoé, Your name on stream")).to_be_checked()
    await expect(page.locator('.incentive[data-id="shout"] .incentive-summary')).to_have_text(
        "from 20,00\u00a0€ · 2 claimed · 1 left")

    await page.fill("#campaign-milestones-input", "100 ; 250,50")
    await page.locator("#campaign-form").get_by_role("button", name="Save campaign").click()
    await expect(page.locator("#milestones li")).to_have_text(["100,00\u00a0€reached", "250,50\u00a0€"])
    _, state = await server.request("GET", f"{BASE}/state")
    assert state["campaign"]["milestones"] == ["100.00", "250.50"]
    await page.locator("#incentives").screenshot(path=screenshot_path("dashboard-rewards"))
    log.assert_clean()
