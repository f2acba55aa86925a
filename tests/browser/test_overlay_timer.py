"""The subathon timer in Chromium: started from the dashboard, extended by a donation, paused,
shown on the overlay on the server's clock."""
from __future__ import annotations

import asyncio
from typing import Any

from playwright.async_api import expect

from tests.browser.conftest import screenshot_path
from tests.browser.dashboard_support import log_in
from tests.browser.test_widgets import CHANNEL, open_overlay, screenshots

CLOCK = "() => document.querySelector('.w-timer [data-role=clock]').textContent"


async def test_dashboard_starts_pauses_and_adds_and_the_overlay_follows(make_server: Any, new_page: Any) -> None:
    server = await make_server(**CHANNEL, timer={"initial_s": 1800, "rules": [{"seconds_per_unit": "60"}]})
    overlay, overlay_log = await open_overlay(new_page, server, "timer")
    assert await overlay.locator(".w-timer .timer").is_hidden()  # nothing to show until started
    dashboard, dashboard_log = await new_page(server.url)
    await log_in(dashboard, server.url)
    await expect(dashboard.locator("#timer-minutes")).to_have_value("30")
    await dashboard.locator("#timer-start").click()
    await overlay.wait_for_function(f"() => ({CLOCK})().startsWith('29:') || ({CLOCK})() === '30:00'")

    await server.donate(amount="10.00", donor_name="Sam")
    await overlay.wait_for_function(f"() => ({CLOCK})().startsWith('39:') || ({CLOCK})() === '40:00'")
    await expect(overlay.locator(".w-timer [data-role=added]")).to_have_text("+10:00")
    await expect(dashboard.locator("#timer-added")).to_have_text("Added by donations: 0:10:00")

    await dashboard.get_by_role("button", name="Pause timer").click()
    await expect(overlay.locator(".w-timer [data-role=paused]")).to_be_visible()
    await dashboard.get_by_role("button", name="Take 5 minutes away").click()
    await overlay.wait_for_function(f"() => ({CLOCK})().startsWith('34:') || ({CLOCK})() === '35:00'")
    frozen = await overlay.evaluate(CLOCK)
    await dashboard.get_by_role("button", name="Resume timer").click()
    await expect(overlay.locator(".w-timer [data-role=paused]")).to_be_hidden()
    assert frozen.startswith("34:") or frozen == "35:00"
    await screenshots(overlay, "timer-running")
    await dashboard.locator("#timer").screenshot(path=screenshot_path("dashboard-timer"))
    overlay_log.assert_clean()
    dashboard_log.assert_clean()


async def test_keyboard_shortcuts_pause_the_timer_and_reload_overlays(make_server: Any, new_page: Any) -> None:
    server = await make_server(**CHANNEL)
    status, _ = await server.post("/api/v1/channels/demo/timer/start", {"seconds": 600})
    assert status == 200
    overlay, overlay_log = await open_overlay(new_page, server, "goal")
    dashboard, dashboard_log = await new_page(server.url)
    await log_in(dashboard, server.url)
    await expect(dashboard.locator("#timer-toggle")).to_be_enabled()
    await dashboard.keyboard.press("c")
    await expect(dashboard.locator("#timer-toggle")).to_have_text("Resume timer")
    assert (await server.request("GET", "/api/v1/channels/demo/timer"))[1]["timer"]["paused"] is True
    await dashboard.keyboard.press("c")
    await expect(dashboard.locator("#timer-toggle")).to_have_text("Pause timer")
    async with overlay.expect_navigation():
        await dashboard.keyboard.press("r")
    await overlay.wait_for_function("() => !!window.overlay && window.overlay.client.lastSeq !== null")
    await dashboard.keyboard.press("?")
    await expect(dashboard.locator("#shortcuts-dialog")).to_contain_text("Reload every open overlay")
    overlay_log.assert_clean()
    dashboard_log.assert_clean()


async def test_an_action_answer_arriving_after_a_later_event_does_not_show_older_time(
        make_server: Any, new_page: Any) -> None:
    """The answer to "start" is held back until a donation's ``timer`` event has reached the page:
    the panel keeps the donation's added time (the events are ordered, answers are not)."""
    server = await make_server(**CHANNEL, timer={"initial_s": 1800, "rules": [{"seconds_per_unit": "60"}]})
    dashboard, dashboard_log = await new_page(server.url)
    await log_in(dashboard, server.url)
    held: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    async def hold(route: Any) -> None:
        held.set_result(route)
    await dashboard.route("**/timer/start", hold)
    await dashboard.locator("#timer-start").click()
    route = await asyncio.wait_for(held, 60)
    answer = await route.fetch()  # the server started the timer; the page has not seen the answer
    await expect(dashboard.locator("#timer-added")).to_have_text("Added by donations: 0:00:00")
    await server.donate(amount="10.00", donor_name="Sam")
    await expect(dashboard.locator("#timer-added")).to_have_text("Added by donations: 0:10:00")
    await route.fulfill(response=answer)
    await expect(dashboard.locator("#timer-start")).not_to_have_attribute("aria-busy", "true")
    await expect(dashboard.locator("#timer-added")).to_have_text("Added by donations: 0:10:00")
    dashboard_log.assert_clean()


async def test_a_second_press_while_the_first_is_on_its_way_toggles_again(make_server: Any, new_page: Any) -> None:
    """"c" pauses; its event shows "Resume timer" before its answer comes (held back here); "c"
    again then resumes once the first is answered, instead of being dropped as a double click."""
    server = await make_server(**CHANNEL)
    status, _ = await server.post("/api/v1/channels/demo/timer/start", {"seconds": 600})
    assert status == 200
    dashboard, dashboard_log = await new_page(server.url)
    await log_in(dashboard, server.url)
    await expect(dashboard.locator("#timer-toggle")).to_be_enabled()
    held: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    async def hold(route: Any) -> None:
        held.set_result(route)
    await dashboard.route("**/timer/pause", hold)
    await dashboard.keyboard.press("c")
    route = await asyncio.wait_for(held, 60)
    answer = await route.fetch()
    await expect(dashboard.locator("#timer-toggle")).to_have_text("Resume timer")  # from the event
    await dashboard.keyboard.press("c")
    await route.fulfill(response=answer)
    await expect(dashboard.locator("#timer-toggle")).to_have_text("Pause timer")
    assert (await server.request("GET", "/api/v1/channels/demo/timer"))[1]["timer"]["paused"] is False
    dashboard_log.assert_clean()
