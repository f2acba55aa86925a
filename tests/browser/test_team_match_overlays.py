"""A team's match as its members show it, in a real Chromium: a gift on one member moves the
team's remainder on the other member's match banner and goal bar, and that member's dashboard
shows the team's match read-only (docs/teams.md "Team match")."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from playwright.async_api import expect

from tests.admin_support import ADMIN, ADMIN_TOKEN, CHANNELS
from tests.browser.conftest import screenshot_path
from tests.browser.dashboard_support import log_in
from tests.browser.test_widgets import CONNECTED, open_overlay, screenshots

TEAM = {"id": "cause", "name": "La cause", "goal": "50000.00", "channels": ["demo", "other"],
        "match": {"sponsor": "TikTok", "multiplier": "2", "cap": "100.00"}}
OTHER = {"id": "other", "name": "Autre stream", "currency": "EUR", "locale": "fr_FR",
         "campaign": {"title": "La même cause", "goal": "1000.00"}}
# The channels write amounts in fr_FR, whatever language the page speaks.
BANNER = "d => document.querySelector('.w-match [data-role=remaining]')?.textContent === d.text"
GOAL_LINE = "d => { const n = document.querySelector('.w-goal [data-role=match-line]');" \
            " return !!n && !n.hidden && n.textContent === d.text; }"
WORDS = {
    "fr": {"banner": "Encore {} à doubler", "goal": "TikTok double vos dons · {} restants",
           "dashboard": "Abondement d'équipe — La cause : TikTok ×2, {} restants", "start": "Lancer l'abondement"},
    "en": {"banner": "{} left to double", "goal": "TikTok ×2 · {} left",
           "dashboard": "Team match — La cause: TikTok ×2, {} left", "start": "Start match"},
}


async def start_cause(make_server: Any) -> tuple[Any, dict[str, Any]]:
    """Demo (no match of its own) and a second channel made through the admin API, in a team
    with a 100 € ×2 match."""
    server = await make_server(match=None, server={"admin_tokens": [ADMIN_TOKEN]})
    status, other = await server.request("POST", CHANNELS, json=OTHER, headers=ADMIN)
    assert status == 201, other
    status, team = await server.request("POST", "/api/v1/admin/teams", json=TEAM, headers=ADMIN)
    assert status == 201, team
    return server, other


async def donate_on_other(server: Any, other: dict[str, Any], amount: str) -> None:
    status, body = await server.post("/api/v1/channels/other/donations", {"amount": amount},
                                     headers={"Authorization": f"Bearer {other['moderator_token']}"})
    assert status == 201, body
    assert body["matched"] == amount  # ×2: the team's cap gives as much


@pytest.mark.parametrize("lang", ["fr", "en"])
async def test_a_gift_on_one_member_moves_the_team_match_on_the_others(make_server: Any, new_page: Any,
                                                                         lang: str) -> None:
    server, other = await start_cause(make_server)
    words = WORDS[lang]
    banner_a, log_a = await open_overlay(new_page, server, "match", f"&lang={lang}")
    goal_a, log_goal = await open_overlay(new_page, server, "goal", f"&lang={lang}")
    banner_b, log_b = await new_page(server.url)
    assert (await banner_b.goto(f"{server.url}/overlay/other/match?key={other['overlay_key']}&lang={lang}")).status == 200
    await banner_b.wait_for_function(CONNECTED)
    first = words["banner"].format("100,00\u00a0€")
    for page in (banner_a, banner_b):
        await page.wait_for_function(BANNER, arg={"text": first})
    await goal_a.wait_for_function(GOAL_LINE, arg={"text": words["goal"].format("100,00\u00a0€")})

    await donate_on_other(server, other, "30.00")  # on B: A follows with the team event
    for page in (banner_a, banner_b):
        await page.wait_for_function(BANNER, arg={"text": words["banner"].format("70,00\u00a0€")})
    await goal_a.wait_for_function(GOAL_LINE, arg={"text": words["goal"].format("70,00\u00a0€")})
    assert await banner_a.text_content(".w-match [data-role=badge]") == "×2"
    await screenshots(banner_a, f"team-match-banner-{lang}")
    await screenshots(goal_a, f"goal-team-match-{lang}")

    page, log = await new_page(server.url)
    await log_in(page, server.url, query="?lang=en")
    if lang != "en":
        await page.goto(f"{server.url}/dashboard/demo?lang={lang}")
        await expect(page.locator("#conn")).to_have_attribute("data-state", "live")
    panel = page.locator("#match")
    await expect(panel.locator("#match-summary")).to_have_text(words["dashboard"].format("70,00\u00a0€"))
    await expect(panel.locator("#match-team-note")).to_be_visible()
    await expect(panel.locator("#match-end")).to_be_hidden()  # the team's match is not this channel's to stop
    await expect(panel.locator("#match-submit")).to_have_text(words["start"])  # a channel match on top
    assert await panel.locator("#match-sponsor").input_value() == ""
    await donate_on_other(server, other, "5.00")  # live, by the team event
    await expect(panel.locator("#match-summary")).to_have_text(words["dashboard"].format("65,00\u00a0€"))
    await expect(panel.locator("#match-remaining")).to_have_text("65,00\u00a0€")
    await panel.screenshot(path=screenshot_path(f"dashboard-team-match-{lang}"))
    await goal_a.wait_for_function(GOAL_LINE, arg={"text": words["goal"].format("65,00\u00a0€")})
    for each in (log_a, log_goal, log_b, log):
        each.assert_clean()


async def test_the_goal_bar_shows_no_match_line_without_a_running_match(make_server: Any, new_page: Any) -> None:
    server = await make_server(match=None)
    goal, log = await open_overlay(new_page, server, "goal", "&lang=en")
    await server.donate(amount="12.00")
    await goal.wait_for_function("() => document.querySelector('.w-goal [data-role=total]').textContent"
                                 " === '12,00\u00a0€'")
    assert await goal.locator(".w-goal [data-role=match-line]").is_hidden()
    status, _ = await server.request("PUT", "/api/v1/channels/demo/match",
                                     json={"sponsor": "Acme", "multiplier": "1.5", "cap": "50.00"})
    assert status == 200
    await goal.wait_for_function(GOAL_LINE, arg={"text": "Acme ×1,5 · 50,00\u00a0€ left"})
    log.assert_clean()



async def test_the_dashboard_keeps_the_channels_own_scheduled_match_beside_the_team_match(
        make_server: Any, new_page: Any) -> None:
    server, other = await start_cause(make_server)
    later = (datetime.now(timezone.utc) + timedelta(days=2)).isoformat()
    own = {"sponsor": "Acme", "multiplier": "1.5", "cap": "50.00", "starts_at": later}
    status, body = await server.request("PUT", "/api/v1/channels/demo/match", json=own)
    assert status == 200 and body["active"] is False, body
    page, log = await new_page(server.url)
    await log_in(page, server.url, query="?lang=en")
    panel = page.locator("#match")
    await expect(panel.locator("#match-summary")).to_have_text(WORDS["en"]["dashboard"].format("100,00\u00a0€"))
    await expect(panel.locator("#match-sponsor")).to_have_value("Acme")  # the form edits the channel's own
    await expect(panel.locator("#match-cap")).to_have_value("50.00")
    await expect(panel.locator("#match-submit")).to_have_text("Update match")
    await expect(panel.locator("#match-end")).to_be_visible()
    await expect(panel.locator("#match-own")).to_contain_text("This channel's own match: Acme ×1.5, starts ")

    status, body = await server.request("PUT", "/api/v1/channels/demo/match", json={**own, "cap": "60.00"})
    assert status == 200, body
    await expect(panel.locator("#match-cap")).to_have_value("60.00")  # its match event: still the own
    await donate_on_other(server, other, "30.00")  # the team's, by the team event
    await expect(panel.locator("#match-summary")).to_have_text(WORDS["en"]["dashboard"].format("70,00\u00a0€"))
    await expect(panel.locator("#match-sponsor")).to_have_value("Acme")
    await panel.screenshot(path=screenshot_path("dashboard-team-match-own-scheduled"))
    log.assert_clean()


async def test_a_scheduled_own_match_leaves_the_team_match_on_the_overlays(make_server: Any, new_page: Any) -> None:
    """Scheduling the channel's own match (its `match` event: not active yet) must not hide the
    team's running match on the banner and the goal bar."""
    server, other = await start_cause(make_server)
    banner, log_banner = await open_overlay(new_page, server, "match", "&lang=en")
    goal, log_goal = await open_overlay(new_page, server, "goal", "&lang=en")
    await banner.wait_for_function(BANNER, arg={"text": WORDS["en"]["banner"].format("100,00\u00a0€")})
    later = (datetime.now(timezone.utc) + timedelta(days=2)).isoformat()
    status, body = await server.request("PUT", "/api/v1/channels/demo/match",
                                        json={"sponsor": "Acme", "multiplier": "1.5", "cap": "50.00",
                                              "starts_at": later})
    assert status == 200 and body["active"] is False, body
    _, state = await server.request("GET", "/api/v1/channels/demo/state")
    for page in (banner, goal):  # the match event has arrived, and no team event since
        await page.wait_for_function("seq => window.overlay.client.lastSeq >= seq", arg=state["seq"])
    assert await banner.locator(".w-match").is_visible()
    await banner.wait_for_function(BANNER, arg={"text": WORDS["en"]["banner"].format("100,00\u00a0€")})
    await goal.wait_for_function(GOAL_LINE, arg={"text": WORDS["en"]["goal"].format("100,00\u00a0€")})
    await donate_on_other(server, other, "30.00")
    await banner.wait_for_function(BANNER, arg={"text": WORDS["en"]["banner"].format("70,00\u00a0€")})
    await goal.wait_for_function(GOAL_LINE, arg={"text": WORDS["en"]["goal"].format("70,00\u00a0€")})
    await server.donate(amount="1.00")  # a gift on this channel: its own match event comes again
    await banner.wait_for_function(BANNER, arg={"text": WORDS["en"]["banner"].format("69,00\u00a0€")})
    assert await banner.locator(".w-match").is_visible()
    await goal.wait_for_function(GOAL_LINE, arg={"text": WORDS["en"]["goal"].format("69,00\u00a0€")})
    log_banner.assert_clean()
    log_goal.assert_clean()


async def test_an_own_match_that_starts_takes_over_from_the_team_match(make_server: Any, new_page: Any) -> None:
    server, _ = await start_cause(make_server)
    banner, log = await open_overlay(new_page, server, "match", "&lang=en")
    await banner.wait_for_function(BANNER, arg={"text": WORDS["en"]["banner"].format("100,00\u00a0€")})
    soon = (datetime.now(timezone.utc) + timedelta(seconds=3)).isoformat()
    status, body = await server.request("PUT", "/api/v1/channels/demo/match",
                                        json={"sponsor": "Acme", "multiplier": "2", "cap": "40.00", "starts_at": soon})
    assert status == 200 and body["active"] is False, body
    await banner.wait_for_function(BANNER, arg={"text": WORDS["en"]["banner"].format("40,00\u00a0€")})
    log.assert_clean()
