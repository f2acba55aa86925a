"""Rough edges a newcomer hits, each checked in Chromium with a screenshot."""
from __future__ import annotations

from typing import Any

from playwright.async_api import expect

from tests.browser.conftest import animations_done, screenshot_path
from tests.browser.dashboard_support import log_in
from tests.browser.test_widgets import ALERT_NAME, open_overlay

LONG_NAME = "Jean-Baptiste-Emmanuel de La Rochefoucauld-Montmorency"
FITS = """sel => { const box = document.querySelector(sel).getBoundingClientRect();
    return [...document.querySelectorAll('#feed-table th, #feed-table td')].every(c => {
        const r = c.getBoundingClientRect(); return r.right <= box.right + 0.5 && r.width > 0; }); }"""


async def test_donations_table_fits_its_panel_at_1440(make_server: Any, new_page: Any) -> None:
    server = await make_server(moderation={"hold": "messages"})
    await server.donate(amount="1250.00", donor_name=LONG_NAME, message="Un message assez long " * 6, currency="USD")
    await server.donate(amount="5.00", donor_name="Zoé", message="À relire avant l'antenne")
    await server.donate(amount="12.00", donor_name="Tess", test=True)
    page, log = await new_page(server.url, viewport={"width": 1440, "height": 900})
    await log_in(page, server.url, query="?lang=en")
    await page.goto(f"{server.url}/dashboard/demo?lang=fr")
    await expect(page.locator("#feed-body tr")).to_have_count(3)
    await page.screenshot(path=screenshot_path("dashboard-1440-fr"))
    # Every column, Statut and Actions included, inside the panel and nothing scrolled sideways.
    assert await page.evaluate(FITS, "#feed")
    wrap = await page.evaluate("() => { const w = document.querySelector('.table-wrap');"
                               " return [w.scrollWidth, w.clientWidth]; }")
    assert wrap[0] <= wrap[1], wrap
    await expect(page.locator("#feed-table th").last).to_have_text("Actions")
    await expect(page.locator("#feed-table").get_by_role("button", name="Rejouer").first).to_be_in_viewport()
    log.assert_clean()


async def test_french_dashboard_writes_percent_like_every_page(make_server: Any, new_page: Any) -> None:
    server = await make_server()
    await server.donate(amount="279.50")  # doubled: 559 € of 10 000 € = 5.59 %
    page, log = await new_page(server.url)
    await log_in(page, server.url, query="?lang=en")
    await page.goto(f"{server.url}/dashboard/demo?lang=fr")
    await expect(page.locator("#campaign-percent")).to_have_text("5,6\u00a0%")
    async with server.http.get(server.url + "/donate/demo", headers={"Accept-Language": "fr"}) as r:
        assert "5,6\u00a0%" in await r.text()
    log.assert_clean()


async def test_emoji_in_names_use_the_vendored_colour_font(make_server: Any, new_page: Any) -> None:
    server = await make_server(alerts={"min_amount": "1.00", "duration_ms": 120_000, "gap_ms": 200})
    page, log = await open_overlay(new_page, server, "alert")
    await server.donate(amount="20.00", donor_name="Zoé 🎉🐱", message="Allez 💪❤️ !")
    await page.wait_for_function(ALERT_NAME, arg={"name": "Zoé 🎉🐱"})
    await page.evaluate("() => document.fonts.ready")
    loaded = await page.evaluate("""() => [...document.fonts].filter(f => f.family.includes('Overlay Emoji')
        && f.status === 'loaded').length""")
    # Ours comes first in the font stack: loaded whatever emoji fonts the machine has.
    assert loaded > 0
    await animations_done(page)
    await page.screenshot(path=screenshot_path("emoji-alert"))
    log.assert_clean()


BOX = """sel => { const r = document.querySelector(sel).getBoundingClientRect();
    return {left: r.left, right: r.right, top: r.top, bottom: r.bottom}; }"""


def apart(a: dict[str, float], b: dict[str, float]) -> bool:
    return a["right"] <= b["left"] or b["right"] <= a["left"] or a["bottom"] <= b["top"] or b["bottom"] <= a["top"]


async def test_scene_long_name_alert_stays_clear_of_the_leaderboard(make_server: Any, new_page: Any) -> None:
    server = await make_server(alerts={"min_amount": "1.00", "duration_ms": 120_000, "gap_ms": 200})
    for name, amount in (("Camille", "25.00"), ("Zoé", "1500.00"), ("Hugo", "60.00")):
        await server.donate(amount=amount, donor_name=name)
    await server.post("/api/v1/channels/demo/alerts/clear")
    page, log = await open_overlay(new_page, server, "scene")
    await server.donate(amount="50.00", donor_name=LONG_NAME, message="Pour les Restos, avec tout mon cœur ! " * 3)
    await page.wait_for_function(ALERT_NAME, arg={"name": LONG_NAME})
    await animations_done(page)
    await page.screenshot(path=screenshot_path("scene-long-name"))
    card = await page.evaluate(BOX, ".w-alert .alert__panel")
    for other in (".w-leaderboard", ".w-sticker", ".w-match"):
        assert apart(card, await page.evaluate(BOX, other)), other
    log.assert_clean()


async def test_live_page_offline_text_is_not_covered_by_the_alert(make_server: Any, new_page: Any) -> None:
    server = await make_server(alerts={"min_amount": "1.00", "duration_ms": 120_000, "gap_ms": 200},
                               live={"stream_key": "test-stream-key"})
    page, log = await new_page(server.url, viewport={"width": 1280, "height": 720})
    await page.goto(f"{server.url}/live/demo")
    offline = page.locator(".live__offline")
    await expect(offline).to_be_visible()
    await page.wait_for_function("() => !!window.overlay && window.overlay.client.lastSeq !== null")
    await server.donate(amount="20.00", donor_name="Camille")
    await page.wait_for_function(ALERT_NAME, arg={"name": "Camille"})
    await animations_done(page)
    await expect(offline).to_have_css("opacity", "0")  # steps aside: nothing is drawn over it
    await page.screenshot(path=screenshot_path("live-offline-alert"))
    await server.post("/api/v1/channels/demo/alerts/skip")
    await expect(offline).to_have_css("opacity", "1")  # and comes back once the alert is gone
    await page.screenshot(path=screenshot_path("live-offline-after-alert"))
    log.assert_clean()
