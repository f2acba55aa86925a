"""Every widget in a real Chromium at 1920×1080, against the real server, as OBS loads it."""
from __future__ import annotations

import re
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from overlay.app import create_app
from overlay.widgets import WIDGETS
from tests.browser.conftest import animations_done, screenshot_path
from tests.support import AUTH, OVERLAY_KEY, ROOT, make_config

CHANNEL = {
    # Alerts as long as allowed: a slow machine must not miss one while it is on screen.
    "alerts": {"min_amount": "1.00", "duration_ms": 120_000, "gap_ms": 200},
    "campaign": {"title": "Les Restos du Cœur", "goal": "10000.00", "milestones": ["2500.00", "5000.00", "7500.00"]},
    "incentives": [
        {"id": "hair", "kind": "target", "title": "Cheveux roses", "amount": "500.00"},
        {"id": "speed", "kind": "target", "title": "Speedrun les yeux bandés", "amount": "2000.00"},
        {"id": "game", "kind": "poll", "title": "Prochain jeu",
         "options": [{"id": "celeste", "label": "Celeste"}, {"id": "hades", "label": "Hades"},
                     {"id": "outer", "label": "Outer Wilds"}]},
    ],
}
SEED_CHOICES = {"Camille": {"id": "hair"}, "Jean-Baptiste": {"id": "game", "option": "celeste"},
                "Zoé": {"id": "speed"}}
# What the reacting donation chooses, for the widgets that show incentives.
CHOICE = {"targets": {"id": "hair"}, "poll": {"id": "game", "option": "hades"}}
# A one-channel team, so that the team widget has something to show.
TEAMS = [{"id": "restos", "name": "Team Restos", "goal": "50000.00", "channels": ["demo"]}]
SEED = [("Camille", "25.00", None), (None, "5.00", None),
        ("Jean-Baptiste", "120.00", "Courage à toute l'équipe, on lâche rien !"), ("Zoé", "1500.00", None)]
# Stand-ins for game footage: a night scene and a snowy one. The page itself stays transparent.
BACKDROPS = {
    "dark": "radial-gradient(circle at 20% 30%, #3a5a3a, transparent 40%), radial-gradient(circle at 80% 70%, "
            "#1c2c4a, transparent 45%), linear-gradient(160deg, #0d1a12, #16202e 60%, #0a0d14)",
    "light": "radial-gradient(circle at 25% 30%, #fff8d6, transparent 40%), radial-gradient(circle at 75% 65%, "
             "#bfe3ff, transparent 45%), linear-gradient(160deg, #e9f3ff, #f7f1e6 60%, #d8e8d0)",
}
# Functions, not bare expressions: Playwright evaluates a bare expression with eval(), which the CSP forbids.
CONNECTED = "() => !!window.overlay && window.overlay.client.lastSeq !== null"
ALERT_NAME = "d => { const n = document.querySelector('.w-alert [data-role=name]');" \
             " return !!n && !n.closest('[hidden]') && n.textContent === d.name; }"
REACTS = {
    "alert": ALERT_NAME,
    "goal": "d => document.querySelector('.w-goal [data-role=total]').textContent === d.total",
    "match": "d => document.querySelector('.w-match [data-role=remaining]').textContent.includes(d.remaining)",
    "sticker": "d => document.querySelector('.w-sticker [data-role=raised]').textContent.includes(d.total)",
    "ticker": "d => document.querySelector('.w-ticker .ticker__name')?.textContent === d.name",
    "leaderboard": "d => [...document.querySelectorAll('.w-leaderboard .board__name')]"
                   ".some(n => n.textContent === d.name)",
    "targets": "d => [...document.querySelectorAll('.w-targets .targets__amounts')]"
               ".some(n => n.textContent.startsWith(d.hair))",
    "poll": "d => [...document.querySelectorAll('.w-poll .poll__option')].some(o =>"
            " o.querySelector('.poll__label').textContent === 'Hades' && o.querySelector('.poll__amount').textContent === d.hades)",
    "team": "d => document.querySelector('.w-team [data-role=total]').textContent === d.team",
    "timer": "d => document.querySelector('.w-timer').dataset.addedMs === d.timer_added_ms",
    "scene": f"d => ({ALERT_NAME})(d) && document.querySelector('.w-goal [data-role=total]').textContent === d.total",
}


def expected(name: str, after: dict[str, Any]) -> dict[str, str]:
    """What REACTS looks for once a donation from ``name`` is in ``after`` (a state snapshot)."""
    shown = {i["id"]: i["display"]["total"] for i in after["incentives"]}
    shown["hades"] = next(i for i in after["incentives"] if i["id"] == "game")["options"][1]["display"]
    return {"name": name, "total": after["campaign"]["display"]["total"],
            "timer_added_ms": str(after["timer"]["added_ms"]),
            "remaining": after["match"]["display"]["remaining"], "team": after["teams"][0]["display"]["total"],
            **shown}


async def seed(server: Any) -> None:
    for name, amount, message in SEED:
        choice = {"incentive": SEED_CHOICES[name]} if name in SEED_CHOICES else {}
        await server.donate(amount=amount, donor_name=name, message=message, **choice)
    await server.post("/api/v1/channels/demo/alerts/clear")


async def open_overlay(new_page: Any, server: Any, widget: str, query: str = "") -> tuple[Any, Any]:
    page, log = await new_page(server.url)
    response = await page.goto(f"{server.url}/overlay/demo/{widget}?key={OVERLAY_KEY}{query}")
    assert response.status == 200
    await page.wait_for_function(CONNECTED)
    return page, log


async def caught_up(page: Any, server: Any) -> None:
    """Return once the page has handled every overlay event logged so far: a marker event (a
    campaign PATCH) is logged now, and events reach the page in seq order."""
    listener = await server.listen()
    await listener.wait_for("state")
    title = (await state(server))["campaign"]["title"]
    status, _ = await server.request("PATCH", "/api/v1/channels/demo/campaign", json={"title": title})
    assert status == 200
    marker = await listener.wait_for("progress")
    await page.wait_for_function("seq => window.overlay.client.lastSeq >= seq", arg=marker["seq"])


async def screenshots(page: Any, name: str) -> None:
    await animations_done(page)
    for backdrop, css in BACKDROPS.items():
        await page.evaluate("css => { document.documentElement.style.background = css; }", css)
        await page.screenshot(path=screenshot_path(f"widget-{name}-{backdrop}"))
    await page.evaluate("() => { document.documentElement.style.background = ''; }")


async def state(server: Any) -> dict[str, Any]:
    status, body = await server.request("GET", "/api/v1/channels/demo/state")
    assert status == 200
    return body


async def assert_transparent_without_scrollbars(page: Any, *, at_rest: bool = True) -> None:
    if at_rest:  # enter animations slide in from outside; wait for every finite one to end
        await page.evaluate("""() => Promise.all(document.getAnimations()
            .filter(a => a.effect.getComputedTiming().endTime !== Infinity).map(a => a.finished))""")
    found = await page.evaluate("""() => {
        const html = getComputedStyle(document.documentElement), body = getComputedStyle(document.body);
        const root = document.documentElement;
        return {html: html.backgroundColor, body: body.backgroundColor, overflow: [html.overflow, body.overflow],
                scrollbars: innerWidth - root.clientWidth + innerHeight - root.clientHeight,
                fits: root.scrollWidth <= innerWidth && root.scrollHeight <= innerHeight};
    }""")
    if not at_rest:  # an animation may poke out for a moment; overflow: hidden keeps it from showing
        found.pop("fits")
    assert found == {"html": "rgba(0, 0, 0, 0)", "body": "rgba(0, 0, 0, 0)", "overflow": ["hidden", "hidden"],
                     "scrollbars": 0, **({"fits": True} if at_rest else {})}


@pytest.mark.parametrize("widget", WIDGETS)
async def test_widget_loads_clean_and_reacts_to_a_donation(
        make_server: Any, new_page: Any, widget: str) -> None:
    """How fast it reacts is bench/widget_latency.py's figure, not a test's."""
    server = await make_server(**CHANNEL, teams=TEAMS)
    await seed(server)
    if widget == "timer":  # it shows nothing until started
        status, _ = await server.post("/api/v1/channels/demo/timer/start", {})
        assert status == 200
    page, log = await open_overlay(new_page, server, widget)
    await assert_transparent_without_scrollbars(page)

    choice = {"incentive": CHOICE[widget]} if widget in CHOICE else {}
    await server.donate(amount="12.50", donor_name="Marie-Hélène", message="Bravo pour ce live !", **choice)
    await page.wait_for_function(REACTS[widget], arg=expected("Marie-Hélène", await state(server)))
    if widget == "timer":  # the default rule: 60 s per whole unit of currency, 12.50 € adds 12 minutes
        await page.wait_for_function("() => document.querySelector('.w-timer [data-role=added]').textContent"
                                     " === '+12:00'")

    await screenshots(page, widget)
    await assert_transparent_without_scrollbars(page, at_rest=False)
    log.assert_clean()


async def test_alert_shows_name_amount_match_line_and_message_in_french(make_server: Any, new_page: Any) -> None:
    server = await make_server(**CHANNEL)
    page, log = await open_overlay(new_page, server, "alert")
    await server.donate(amount="12.50", message="Pour les Restos !")
    await page.wait_for_selector(".w-alert [data-role=card]:not([hidden])")
    text = await page.evaluate("""() => Object.fromEntries(['name', 'amount', 'match', 'message'].map(
        r => [r, document.querySelector(`.w-alert [data-role=${r}]`).textContent]))""")
    assert text == {"name": "Anonyme", "amount": "a donné 12,50\u00a0€", "match": "+12,50\u00a0€ doublés par TikTok",
                    "message": "Pour les Restos !"}
    log.assert_clean()


async def test_alert_in_english_for_an_english_channel(make_server: Any, new_page: Any) -> None:
    server = await make_server(locale="en_US", currency="USD", fx={}, **CHANNEL)
    page, log = await open_overlay(new_page, server, "alert")
    await server.donate(amount="12.50")
    await page.wait_for_selector(".w-alert [data-role=card]:not([hidden])")
    assert await page.inner_text(".w-alert [data-role=name]") == "Anonymous"
    assert await page.text_content(".w-alert [data-role=amount]") == "donated $12.50"
    assert await page.text_content(".w-alert [data-role=match]") == "+$12.50 doubled by TikTok"
    assert await page.get_attribute("html", "lang") == "en"
    log.assert_clean()


async def test_alert_queue_controls_take_effect_at_once(make_server: Any, new_page: Any) -> None:
    # Alerts last longer than any wait below: a card that goes away went because of the
    # control, not because it ended.
    server = await make_server(**CHANNEL)
    page, log = await open_overlay(new_page, server, "alert")
    shown = ".w-alert [data-role=card]:not([hidden])"
    await server.donate(amount="5.00", donor_name="Skip me")
    await page.wait_for_selector(shown)
    await server.post("/api/v1/channels/demo/alerts/skip")
    await page.wait_for_selector(shown, state="detached")

    await server.post("/api/v1/channels/demo/alerts/pause")
    await server.donate(amount="5.00", donor_name="Wait for it")
    await caught_up(page, server)
    assert await page.query_selector(shown) is None
    alerts = (await state(server))["alerts"]
    assert alerts["paused"] and alerts["playing"] is None and alerts["queue_length"] == 1
    await server.post("/api/v1/channels/demo/alerts/resume")
    await page.wait_for_function(ALERT_NAME, arg={"name": "Wait for it"})

    await server.post("/api/v1/channels/demo/alerts/clear")
    await page.wait_for_selector(shown, state="detached")
    log.assert_clean()


async def test_a_fresh_page_shows_the_playing_alert_but_never_older_ones(make_server: Any, new_page: Any) -> None:
    server = await make_server(**CHANNEL)
    await server.donate(amount="5.00", donor_name="Old news")
    await server.post("/api/v1/channels/demo/alerts/skip")
    await server.donate(amount="6.00", donor_name="Now playing")
    page, log = await open_overlay(new_page, server, "alert")
    await page.wait_for_function(ALERT_NAME, arg={"name": "Now playing"})
    log.assert_clean()


async def test_test_donations_alert_but_stay_out_of_ticker_leaderboard_and_totals(
        make_server: Any, new_page: Any) -> None:
    server = await make_server(**CHANNEL)
    await seed(server)
    page, log = await open_overlay(new_page, server, "scene")
    before = (await state(server))["campaign"]
    await server.donate(amount="100.00", donor_name="Tess Test", test=True)
    await page.wait_for_function(ALERT_NAME, arg={"name": "Tess Test"})
    # A real donation after it: once the page shows its total, it has handled the test one too.
    await server.donate(amount="10.00", donor_name="Réel")
    after = (await state(server))["campaign"]
    assert Decimal(after["raised"]) - Decimal(before["raised"]) == Decimal("10.00")
    assert after["count"] == before["count"] + 1
    await page.wait_for_function(REACTS["goal"], arg={"total": after["display"]["total"]})
    await page.wait_for_function(REACTS["ticker"], arg={"name": "Réel"})
    names = await page.eval_on_selector_all(".ticker__name, .board__name", "ns => ns.map(n => n.textContent)")
    assert "Zoé" in names and "Tess Test" not in names
    log.assert_clean()


async def test_donor_text_is_shown_as_text_and_never_executed(make_server: Any, new_page: Any) -> None:
    name = '<img src=x onerror="window.__xss=1">'
    message = '<script>window.__xss=2</script><b>bold</b>"><svg onload="window.__xss=3">'
    server = await make_server(widgets={"ticker": {"show_messages": True}}, **CHANNEL)
    page, log = await open_overlay(new_page, server, "scene")
    await server.donate(amount="20.00", donor_name=name, message=message)
    await page.wait_for_function(ALERT_NAME, arg={"name": name})
    assert await page.text_content(".w-alert [data-role=message]") == message
    assert await page.text_content(".w-ticker .ticker__name") == name
    assert name in await page.eval_on_selector_all(".board__name", "ns => ns.map(n => n.textContent)")
    injected = await page.evaluate("""() => ({
        xss: window.__xss ?? null,
        elements: document.querySelectorAll('.w img[src="x"], .w img[onerror], .w script, .w svg[onload]').length
                  + [...document.querySelectorAll('.w b')].filter(b => b.textContent === 'bold').length })""")
    assert injected == {"xss": None, "elements": 0}
    await page.screenshot(path=screenshot_path("widget-xss"))
    log.assert_clean()


async def test_query_settings_override_config(make_server: Any, new_page: Any) -> None:
    server = await make_server(widgets={"goal": {"title": "Titre de la config", "theme": "dark"}}, **CHANNEL)
    page, log = await open_overlay(new_page, server, "goal")
    assert await page.text_content(".w-goal [data-role=title]") == "Titre de la config"
    page, log2 = await open_overlay(new_page, server, "goal", "&title=Marathon%2048h&theme=light&accent_color=22aa55")
    assert await page.text_content(".w-goal [data-role=title]") == "Marathon 48h"
    assert await page.get_attribute(".w-goal", "data-theme") == "light"
    colour = await page.evaluate("() => getComputedStyle(document.querySelector('.goal__percent')).color")
    assert colour == "rgb(34, 170, 85)"
    log.assert_clean()
    log2.assert_clean()


async def test_a_bad_setting_is_a_400_page_naming_it(make_server: Any, new_page: Any) -> None:
    server = await make_server()
    page, log = await new_page(server.url)
    response = await page.goto(f"{server.url}/overlay/demo/ticker?key={OVERLAY_KEY}&speed=fast")
    assert response.status == 400
    assert "speed" in await page.inner_text("main")
    await page.screenshot(path=screenshot_path("widget-bad-setting"))
    assert log.outside_requests == [] and log.page_errors == []


async def test_a_reconnecting_overlay_replays_what_it_missed(make_server: Any, new_page: Any) -> None:
    server = await make_server(**CHANNEL)
    page, log = await open_overlay(new_page, server, "ticker")
    await page.evaluate("() => { window.states = 0; window.overlay.client.onState(() => window.states++); }")
    await page.evaluate("() => window.overlay.client.stop()")
    await server.donate(amount="7.00", donor_name="Missed me")
    await page.evaluate("() => window.overlay.client.start()")
    await page.wait_for_function("() => document.querySelector('.ticker__name')?.textContent === 'Missed me'")
    assert await page.evaluate("() => window.states") == 0  # replayed after last_seq, not a fresh snapshot
    log.assert_clean()


async def test_gallery_previews_every_widget(make_server: Any, new_page: Any) -> None:
    server = await make_server(**CHANNEL)
    await seed(server)
    page, log = await new_page(server.url)
    await page.goto(f"{server.url}/widgets/demo?key={OVERLAY_KEY}")
    assert await page.locator("article.card").count() == len(WIDGETS)
    assert await page.locator(".card__body > .card__url [data-copy]").all_text_contents() == ["Copy"] * len(WIDGETS)
    for frame in page.frames[1:]:
        await frame.wait_for_function(CONNECTED)
        await animations_done(frame)
    await page.screenshot(path=screenshot_path("widget-gallery"), full_page=True)
    log.assert_clean()


async def test_goal_celebrates_a_crossed_milestone(make_server: Any, new_page: Any) -> None:
    server = await make_server(**CHANNEL)
    page, log = await open_overlay(new_page, server, "goal")
    assert await page.locator(".goal__marker").count() == 3
    await server.donate(amount="1300.00", donor_name="Big heart")  # doubled: 2 600 € > the 2 500 € milestone
    await page.wait_for_selector(".w-goal [data-role=celebrate]:not([hidden])")
    assert await page.text_content(".w-goal [data-role=celebrate]") == "Palier atteint : 2\u202f500,00\u00a0€"
    assert await page.locator(".goal__marker.is-passed").count() == 1
    await animations_done(page)
    await page.screenshot(path=screenshot_path("widget-goal-milestone"))
    log.assert_clean()


async def test_match_banner_and_sticker_badge_follow_the_match(make_server: Any, new_page: Any) -> None:
    server = await make_server(**CHANNEL)
    page, log = await open_overlay(new_page, server, "scene")
    banner, badge = ".w-match [data-role=banner]", ".w-sticker [data-role=badge]"
    assert await page.is_visible(banner) and await page.text_content(badge) == "×2"
    status, _ = await server.request("DELETE", "/api/v1/channels/demo/match")
    assert status == 200
    await page.wait_for_selector(banner, state="hidden")
    await page.wait_for_selector(badge, state="hidden")

    asked = time.monotonic()
    ends_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 600))
    status, _ = await server.request("PUT", "/api/v1/channels/demo/match",
                                     json={"sponsor": "Ma Banque", "multiplier": "3", "cap": "1000.00",
                                           "ends_at": ends_at})
    assert status == 200
    await page.wait_for_selector(banner, state="visible")
    assert await page.text_content(".w-match [data-role=headline]") == "Dons triplés par Ma Banque"
    assert await page.text_content(".w-match [data-role=remaining]") == "Encore 1\u202f000,00\u00a0€ à tripler"
    countdown = await page.text_content(".w-match [data-role=countdown]")
    elapsed = time.monotonic() - asked
    # At most 10:00 left (ends_at was truncated to the second) and at least 10:00 less the time
    # this took, however slow the machine. The page's server clock is a lower bound
    # (overlay-client.js): it lags by however long the page took to handle its snapshot, so the
    # countdown may read a second high.
    m = re.fullmatch(r"Fin dans (\d\d):(\d\d)", countdown)
    assert m, countdown
    left = int(m[1]) * 60 + int(m[2])
    assert 600 - elapsed - 2 <= left <= 601, (countdown, elapsed)
    assert await page.text_content(badge) == "×3"
    log.assert_clean()


async def test_ticker_and_leaderboard_counts_and_anonymous_donors(make_server: Any, new_page: Any) -> None:
    server = await make_server(**CHANNEL)
    await seed(server)
    page, log = await open_overlay(new_page, server, "ticker", "&count=2&speed=0")
    assert await page.locator(".ticker__name").all_text_contents() == ["Zoé", "Jean-Baptiste"]
    page, log2 = await open_overlay(new_page, server, "leaderboard", "&count=3")
    await server.donate(amount="30.00")  # anonymous: never on the board
    await server.donate(amount="100.00", donor_name="Camille")  # 25 + 100 = 125 > 120: moves up to second
    await page.wait_for_function("() => document.querySelectorAll('.board__name')[1]?.textContent === 'Camille'")
    assert await page.locator(".board__name").all_text_contents() == ["Zoé", "Camille", "Jean-Baptiste"]
    assert await page.locator(".board__total").nth(1).text_content() == "125,00\u00a0€"
    log.assert_clean()
    log2.assert_clean()


async def test_alert_uses_the_tiers_image_and_sound_from_the_media_folder(
        aiohttp_server: Any, tmp_path: Path, new_page: Any) -> None:
    media = tmp_path / "media"
    media.mkdir()
    (media / "big.svg").write_text((ROOT / "overlay/static/img/heart.svg").read_text().replace("#fe2c55", "#ffd84d"))
    (media / "big.wav").write_bytes((ROOT / "overlay/static/sounds/chime.wav").read_bytes())
    channel = dict(CHANNEL, alerts={**CHANNEL["alerts"], "tiers": [
        {"min_amount": "50.00", "duration_ms": 120_000, "sound": "big.wav", "image": "big.svg"}]})
    config = make_config(tmp_path / "data", **channel)
    config = config.model_copy(update={"server": config.server.model_copy(update={"media_dir": media})})
    server = await aiohttp_server(create_app(config), host="127.0.0.1")
    url = str(server.make_url("")).rstrip("/")
    page, log = await new_page(url)
    await page.goto(f"{url}/overlay/demo/alert?key={OVERLAY_KEY}")
    await page.wait_for_function(CONNECTED)
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{url}/api/v1/channels/demo/donations", headers=AUTH,
                             json={"amount": "60.00", "donor_name": "Gros don"}) as r:
            assert r.status == 201
    await page.wait_for_function(ALERT_NAME, arg={"name": "Gros don"})
    await page.wait_for_function("() => document.querySelector('.w-alert [data-role=image]').complete")
    assert await page.get_attribute(".w-alert [data-role=image]", "src") == "/media/big.svg"
    assert await page.get_attribute(".w-alert", "data-tier") == "big"
    await animations_done(page)
    await page.screenshot(path=screenshot_path("widget-alert-tier"))
    log.assert_clean()
