"""The overlay's watchdog and the dashboard's list of open pages, in Chromium against the real
server: a page whose animations stopped reloads itself and shows the next alert; a page that
lost its server does not reload onto an error page while the server is down, and comes back
when it is up again, without replaying an alert; the dashboard lists an open page until it closes."""
from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any

import aiohttp
from playwright.async_api import expect

from tests.browser.conftest import screenshot_path
from tests.browser.dashboard_support import log_in
from tests.browser.test_overlay_reload import RECORD_NAMES, count_loads
from tests.browser.test_overlay_restart import RECONNECT_S, donate, stop
from tests.browser.test_widgets import ALERT_NAME, CHANNEL, CONNECTED
from tests.support import AUTH, OVERLAY_KEY, ServerProcess, channel_dict, free_port, until

WATCHDOG = {"overlay_watchdog_s": 3}
# The renderer "freezes" on the page's first load only: requestAnimationFrame never calls back.
FREEZE_ONCE = """() => {
  if (sessionStorage.getItem('frozen-once')) return;
  sessionStorage.setItem('frozen-once', '1');
  window.requestAnimationFrame = () => 0;
}"""


def write_config(tmp_path: Path, port: int) -> Path:
    config = {"server": {"host": "127.0.0.1", "port": port, "public_url": f"http://127.0.0.1:{port}", **WATCHDOG},
              "storage": {"redis_url": None, "data_dir": str(tmp_path / "data")},
              "channels": [channel_dict(**CHANNEL)]}
    path = tmp_path / "config.yaml"
    path.write_text(json.dumps(config))  # JSON is YAML
    return path


async def open_alert_box(new_page: Any, url: str, *scripts: str) -> tuple[Any, Any, list[str], list[str]]:
    """The alert box with its shown names recorded; (page, log, its loads, its console warnings)."""
    page, log = await new_page(url)
    warnings: list[str] = []
    page.on("console", lambda m: warnings.append(m.text) if m.type == "warning" else None)
    for script in (*scripts, RECORD_NAMES):
        await page.add_init_script(f"({script})()")
    await page.goto(f"{url}/overlay/demo/alert?key={OVERLAY_KEY}")
    loads = count_loads(page)
    await page.wait_for_function(CONNECTED)
    return page, log, loads, warnings


async def test_a_page_whose_animations_stopped_reloads_and_shows_the_next_alert(
        make_server: Any, new_page: Any) -> None:
    server = await make_server(server=WATCHDOG, **CHANNEL)
    await server.donate(amount="6.00", donor_name="Now playing")
    page, log, loads, warnings = await open_alert_box(new_page, server.url, FREEZE_ONCE)
    await until(lambda: loads, what="the watchdog to reload the frozen page")
    await page.wait_for_function(CONNECTED)
    assert any("no animation frame" in w for w in warnings), warnings
    await page.wait_for_function(ALERT_NAME, arg={"name": "Now playing"})
    await server.post("/api/v1/channels/demo/alerts/skip")
    await server.donate(amount="7.00", donor_name="Next one")
    await page.wait_for_function(ALERT_NAME, arg={"name": "Next one"})
    assert await page.evaluate("() => window.__shown") == ["Now playing", "Next one"]
    assert len(loads) == 1, loads
    await page.screenshot(path=screenshot_path("overlay-watchdog-after-freeze"))
    log.assert_clean()


async def test_a_page_that_lost_its_server_waits_for_it_then_shows_the_next_alert(
        tmp_path: Path, new_page: Any) -> None:
    port = free_port()
    config = write_config(tmp_path, port)
    first = await ServerProcess(config, port).start()
    second = ServerProcess(config, port)
    try:
        async with aiohttp.ClientSession() as http:
            await donate(http, first.url, amount="5.00", donor_name="Before")
            page, log, loads, _ = await open_alert_box(new_page, first.url)
            await page.wait_for_function(ALERT_NAME, arg={"name": "Before"})
            async with http.post(f"{first.url}/api/v1/channels/demo/alerts/skip", headers=AUTH) as r:
                assert r.status == 200

            assert first.signal(signal.SIGKILL) == -signal.SIGKILL
            # Down past the watchdog's limit: it asks the server, finds it gone, and stays put.
            async with page.expect_event("requestfailed", lambda r: r.url.endswith("/healthz"),
                                         timeout=RECONNECT_S * 1000):
                pass
            assert loads == [], "reloaded while the server was down"
            await second.start()
            await page.wait_for_function("() => window.overlay?.client.connected", timeout=RECONNECT_S * 1000)
            await donate(http, second.url, amount="15.00", donor_name="After")
            await page.wait_for_function(ALERT_NAME, arg={"name": "After"})
        # Back by reconnecting (the names seen so far) or by a reload (a fresh record): "Before"
        # was over, so it never shows again.
        assert await page.evaluate("() => window.__shown") in (["Before", "After"], ["After"])
        assert all(not url.startswith("chrome-error") for url in loads), loads
        await page.screenshot(path=screenshot_path("overlay-watchdog-after-server-restart"))
        assert log.page_errors == []
    finally:
        stop(first, second)


async def test_the_dashboard_lists_an_open_overlay_page_until_it_closes(make_server: Any, new_page: Any) -> None:
    server = await make_server(**CHANNEL)
    goal, goal_log = await new_page(server.url)
    await goal.goto(f"{server.url}/overlay/demo/goal?key={OVERLAY_KEY}")
    await goal.wait_for_function(CONNECTED)
    dashboard, dashboard_log = await new_page(server.url)
    await log_in(dashboard, server.url)
    listed = dashboard.locator("#overlay-pages [data-role=overlay-page]")
    await expect(listed).to_have_count(1)
    await expect(listed).to_have_attribute("data-widget", "goal")
    await expect(listed.locator("strong")).to_have_text("goal")
    await expect(listed.locator("[data-role=client]")).to_contain_text("Chrome")
    await dashboard.locator("#overlay-pages").scroll_into_view_if_needed()
    await dashboard.screenshot(path=screenshot_path("dashboard-open-overlay-pages"))

    await goal.close()
    await expect(listed).to_have_count(0)
    await expect(dashboard.get_by_text("No overlay page is open.")).to_be_visible()
    goal_log.assert_clean()
    dashboard_log.assert_clean()
