""""Reload overlays" in Chromium: the pages asked to reload do, the others don't, and a
reloaded alert box picks up where it was (the playing alert again, never an older one, the
next one when it comes)."""
from __future__ import annotations

from typing import Any

from playwright.async_api import expect

from tests.browser.conftest import screenshot_path
from tests.browser.dashboard_support import log_in
from tests.browser.test_widgets import ALERT_NAME, CHANNEL, CONNECTED, open_overlay

RELOAD = "/api/v1/channels/demo/overlays/reload"
# Every name the alert card shows, in order, from the page's first script on (reset by a reload).
RECORD_NAMES = """() => {
  window.__shown = [];
  new MutationObserver(() => {
    const n = document.querySelector('.w-alert [data-role=name]');
    const name = n && !n.closest('[hidden]') ? n.textContent : null;
    if (name && window.__shown[window.__shown.length - 1] !== name) window.__shown.push(name);
  }).observe(document, { subtree: true, childList: true, characterData: true, attributes: true });
}"""


def count_loads(page: Any) -> list[str]:
    loads: list[str] = []
    page.on("framenavigated", lambda frame: loads.append(frame.url) if frame == page.main_frame else None)
    return loads


async def test_reload_one_widget_then_every_page_without_replaying_an_alert(make_server: Any, new_page: Any) -> None:
    server = await make_server(**CHANNEL)
    await server.donate(amount="5.00", donor_name="Old news")
    await server.post("/api/v1/channels/demo/alerts/skip")
    await server.donate(amount="6.00", donor_name="Now playing")
    goal, goal_log = await open_overlay(new_page, server, "goal")
    alert, alert_log = await open_overlay(new_page, server, "alert")
    await alert.add_init_script(f"({RECORD_NAMES})()")
    await alert.wait_for_function(ALERT_NAME, arg={"name": "Now playing"})
    goal_loads, alert_loads = count_loads(goal), count_loads(alert)

    async with goal.expect_navigation():
        status, _ = await server.post(RELOAD, {"widget": "goal"})
        assert status == 200
    await goal.wait_for_function(CONNECTED)

    # Every page now; the alert page reloading proves the goal-only request reached it earlier
    # (events arrive in seq order) and left it alone.
    async with alert.expect_navigation(), goal.expect_navigation():
        status, _ = await server.post(RELOAD)
        assert status == 200
    assert len(alert_loads) == 1 and len(goal_loads) == 2
    await alert.wait_for_function(CONNECTED)
    await alert.wait_for_function(ALERT_NAME, arg={"name": "Now playing"})
    await server.post("/api/v1/channels/demo/alerts/skip")
    await server.donate(amount="7.00", donor_name="Next one")
    await alert.wait_for_function(ALERT_NAME, arg={"name": "Next one"})
    assert await alert.evaluate("() => window.__shown") == ["Now playing", "Next one"]
    goal_log.assert_clean()
    alert_log.assert_clean()


async def test_the_dashboard_buttons_reload_open_overlays(make_server: Any, new_page: Any) -> None:
    server = await make_server(**CHANNEL)
    goal, goal_log = await open_overlay(new_page, server, "goal")
    loads = count_loads(goal)
    dashboard, dashboard_log = await new_page(server.url)
    await log_in(dashboard, server.url)
    async with goal.expect_navigation():
        await dashboard.get_by_role("button", name="Reload every open goal page").click()
    await goal.wait_for_function(CONNECTED)
    await expect(dashboard.get_by_text("Every open goal page is reloading.")).to_be_visible()
    async with goal.expect_navigation():
        await dashboard.get_by_role("button", name="Reload all overlays").click()
    await goal.wait_for_function(CONNECTED)
    assert len(loads) == 2
    await dashboard.screenshot(path=screenshot_path("dashboard-reload-overlays"))
    goal_log.assert_clean()
    dashboard_log.assert_clean()
