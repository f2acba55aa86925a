"""The team widget and the goal widget's team line in a real Chromium: a donation on another
member channel moves the team total on this channel's overlays."""
from __future__ import annotations

from typing import Any

from playwright.async_api import expect

from tests.browser.conftest import screenshot_path
from tests.browser.dashboard_support import log_in
from tests.browser.test_widgets import CONNECTED, assert_transparent_without_scrollbars, open_overlay, screenshots
from tests.support import OVERLAY_KEY
from tests.test_teams import start_team  # noqa: F401 - the fixture

TEAM_TOTAL = "d => document.querySelector(`.w-${d.w} [data-role=${d.role}]`)?.textContent === d.total"


async def test_team_widget_and_goal_team_line_follow_every_member(start_team: Any, new_page: Any) -> None:  # noqa: F811
    team = await start_team("embedded")  # channels in fr_FR; the widget's words in English
    await team.donate("demo", amount="40.00", donor_name="Zoé")
    await team.donate("other", amount="1250.00", donor_name="Jean")
    widget, widget_log = await open_overlay(new_page, team, "team", "&lang=en")
    goal, goal_log = await open_overlay(new_page, team, "goal", "&show_team=true")
    await widget.wait_for_function(TEAM_TOTAL, arg={"w": "team", "role": "total", "total": "1\u202f330,00\u00a0€"})
    await goal.wait_for_function(TEAM_TOTAL, arg={"w": "goal", "role": "team-total", "total": "1\u202f330,00\u00a0€"})

    await team.donate("other", amount="70.00")  # on the other channel: this channel's pages still follow
    await widget.wait_for_function(TEAM_TOTAL, arg={"w": "team", "role": "total", "total": "1\u202f400,00\u00a0€"})
    await goal.wait_for_function(TEAM_TOTAL, arg={"w": "goal", "role": "team-total", "total": "1\u202f400,00\u00a0€"})
    rows = await widget.eval_on_selector_all(".team__member", "rows => rows.map(r => [r.className, r.innerText])")
    assert rows == [["team__member", "Autre stream\n1\u202f320,00\u00a0€"], ["team__member is-self", "Demo streamer\n80,00\u00a0€"]]
    assert await widget.text_content(".team__badge") == "Team"
    assert await goal.text_content(".goal__team-name") == "Team Restos"
    await assert_transparent_without_scrollbars(widget)
    await screenshots(widget, "team-members")
    await screenshots(goal, "goal-with-team")
    widget_log.assert_clean()
    goal_log.assert_clean()


async def test_team_widget_stays_hidden_on_a_channel_outside_any_team(make_server: Any, new_page: Any) -> None:
    server = await make_server()
    page, log = await new_page(server.url)
    await page.goto(f"{server.url}/overlay/demo/team?key={OVERLAY_KEY}")
    await page.wait_for_function(CONNECTED)
    await server.donate(amount="5.00")
    listener = await server.listen()
    await listener.wait_for("state")
    assert await page.locator(".w-team").is_hidden()
    log.assert_clean()


async def test_dashboard_shows_team_progress_live(start_team: Any, new_page: Any) -> None:  # noqa: F811
    team = await start_team("redis")
    await team.donate("other", amount="100.00")
    page, log = await new_page(team.url)
    await log_in(page, team.url, query="?lang=en")
    panel = page.locator("#teams")
    await expect(panel.locator(".team-total")).to_have_text("100,00\u00a0€")
    await team.donate("demo", amount="25.00")  # matched ×2 on demo: the team counts 50 more
    await expect(panel.locator(".team-total")).to_have_text("150,00\u00a0€")
    assert await panel.locator(".team-members li").all_inner_texts() == [
        "Autre stream\n100,00\u00a0€", "Demo streamer\n50,00\u00a0€"]
    assert await panel.locator(".team-members li.self span").text_content() == "Demo streamer"
    await panel.screenshot(path=screenshot_path("dashboard-team-panel"))
    log.assert_clean()
