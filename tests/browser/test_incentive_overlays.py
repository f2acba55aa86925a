"""Each incentive's own browser source: the poll and targets widgets follow what the
moderators create, and the dashboard gives the address that shows one incentive alone."""
from __future__ import annotations

from typing import Any

from playwright.async_api import expect

from tests.browser.conftest import screenshot_path
from tests.browser.dashboard_support import log_in
from tests.browser.test_widgets import CHANNEL, open_overlay
from tests.support import OVERLAY_KEY

BASE = "/api/v1/channels/demo"
BOSS = {"id": "boss", "kind": "poll", "title": "Le boss final",
        "options": [{"id": "kill", "label": "On le bat"}, {"id": "save", "label": "On l'épargne"}]}
TITLES = "() => [...document.querySelectorAll('.w-targets .targets__name')].map(n => n.textContent)"


async def create(server: Any, body: dict[str, Any]) -> None:
    status, answer = await server.post(f"{BASE}/incentives", body)
    assert status == 201, answer


async def test_poll_overlay_follows_a_new_poll_without_its_id(make_server: Any, new_page: Any) -> None:
    server = await make_server(**CHANNEL)
    page, log = await open_overlay(new_page, server, "poll")
    await expect(page.locator(".w-poll [data-role=title]")).to_have_text("Prochain jeu")
    await create(server, BOSS)
    await expect(page.locator(".w-poll [data-role=title]")).to_have_text("Le boss final")
    await server.donate(amount="15.00", incentive={"id": "boss", "option": "save"})
    await expect(page.locator(".w-poll .is-leader .poll__label")).to_have_text("On l'épargne")
    status, _ = await server.request("PATCH", f"{BASE}/incentives/boss", json={"open": False})
    assert status == 200  # closed: the poll still open comes back
    await expect(page.locator(".w-poll [data-role=title]")).to_have_text("Prochain jeu")
    log.assert_clean()


async def test_targets_newest_first_and_one_target_alone(make_server: Any, new_page: Any) -> None:
    server = await make_server(**CHANNEL)
    page, log = await open_overlay(new_page, server, "targets")
    await expect(page.locator(".w-targets .targets__name")).to_have_count(2)
    await create(server, {"id": "dye", "kind": "target", "title": "Teinture de barbe", "amount": "300.00"})
    await page.wait_for_function(f"() => ({TITLES})().join('|') === "
                                 "'Teinture de barbe|Speedrun les yeux bandés|Cheveux roses'")
    alone, alone_log = await open_overlay(new_page, server, "targets", "&target=speed")
    assert await alone.evaluate(TITLES) == ["Speedrun les yeux bandés"]
    log.assert_clean()
    alone_log.assert_clean()


async def test_dashboard_gives_each_incentive_its_overlay_address(make_server: Any, new_page: Any) -> None:
    server = await make_server(**CHANNEL)
    await create(server, BOSS)
    page, log = await new_page(server.url)
    await log_in(page, server.url)
    overlay = f"/overlay/demo/{{}}?key={OVERLAY_KEY}&{{}}"
    await expect(page.locator('.incentive[data-id="game"] .incentive-url input')).to_have_value(
        "http://127.0.0.1:8080" + overlay.format("poll", "poll=game"))
    await expect(page.locator('.incentive[data-id="speed"] .incentive-url input')).to_have_value(
        "http://127.0.0.1:8080" + overlay.format("targets", "target=speed"))
    await page.locator("#incentives").screenshot(path=screenshot_path("dashboard-incentive-addresses"))

    game, game_log = await open_overlay(new_page, server, "poll", "&poll=game")
    await expect(game.locator(".w-poll [data-role=title]")).to_have_text("Prochain jeu")  # not the newer boss
    log.assert_clean()
    game_log.assert_clean()
