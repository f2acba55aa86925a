"""Every widget added full-screen at 1920×1080 with no settings: no two overlap, the alert included.

Realistic content: the seed donations, a running match, a started timer, an open poll with
three options, three targets, a team, and an alert on screen."""
from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from tests.browser.conftest import animations_done, screenshot_path
from tests.browser.test_widgets import ALERT_NAME, CHANNEL, TEAMS, open_overlay, seed
from tests.support import OVERLAY_KEY

# The alert last: it comes in front of the others.
WIDGETS = ("goal", "targets", "team", "poll", "match", "timer", "sticker", "ticker", "leaderboard", "alert")
LONG_NAME = "Marie-Hélène de La Tour d'Auvergne, dite la Grande Donatrice"[:64]
LONG_MESSAGE = ("Bravo pour ce live incroyable, on est toute la famille devant l'écran depuis ce matin et "
                "on ne décroche plus ! Courage à toute l'équipe pour la dernière ligne droite, vous faites "
                "un travail formidable pour les Restos. Bisous de Lyon à tout le chat, on revient ce soir !")[:255]
THIRD_TARGET = {"id": "dye", "kind": "target", "title": "Teinture de barbe en direct", "amount": "5000.00"}
# The box of what a widget shows: every visible element under its root, each clipped by the
# boxes of its ancestors that hide their overflow (the ticker's track runs far past its panel).
BOX = """() => {
    const root = document.querySelector('.w'), boxes = [];
    for (const el of root.querySelectorAll('*')) {
        if (el.closest('[hidden]') || getComputedStyle(el).visibility === 'hidden') continue;
        let r = el.getBoundingClientRect();
        if (r.width === 0 || r.height === 0) continue;
        let [l, t, rt, b] = [r.left, r.top, r.right, r.bottom];
        for (let a = el.parentElement; a && a !== root; a = a.parentElement) {
            if (getComputedStyle(a).overflow === 'visible') continue;
            const c = a.getBoundingClientRect();
            [l, t, rt, b] = [Math.max(l, c.left), Math.max(t, c.top), Math.min(rt, c.right), Math.min(b, c.bottom)];
        }
        if (rt > l && b > t) boxes.push([l, t, rt, b]);
    }
    if (!boxes.length) return null;
    return [Math.min(...boxes.map(x => x[0])), Math.min(...boxes.map(x => x[1])),
            Math.max(...boxes.map(x => x[2])), Math.max(...boxes.map(x => x[3]))];
}"""

# The alert shows the whole message (a smaller font, not a cut): as widget.js's fit() measures it.
WHOLE = """() => { const m = document.querySelector('.w-alert [data-role=message]');
    return m.scrollHeight <= m.clientHeight + parseFloat(getComputedStyle(m).fontSize) * 0.15; }"""
MESSAGE_PX = "() => parseFloat(getComputedStyle(document.querySelector('.w-alert [data-role=message]')).fontSize)"


def overlapping(boxes: dict[str, list[float]]) -> list[tuple[str, str]]:
    names = sorted(boxes)
    return [(a, b) for i, a in enumerate(names) for b in names[i + 1:]
            if boxes[a][0] < boxes[b][2] and boxes[b][0] < boxes[a][2]
            and boxes[a][1] < boxes[b][3] and boxes[b][1] < boxes[a][3]]


async def stacked_screenshot(new_page: Any, server: Any, shots: list[bytes], name: str) -> None:
    """All the widgets as OBS stacks them: each page's transparent screenshot, one over the other."""
    page, _ = await new_page(server.url)
    await page.set_content("<body style='margin:0;background:linear-gradient(160deg,#0d1a12,#16202e 60%,#0a0d14)'>"
                           + "".join(f"<img style='position:fixed;inset:0' src='data:image/png;base64,"
                                     f"{base64.b64encode(shot).decode()}'>" for shot in shots) + "</body>")
    await page.wait_for_function("() => [...document.images].every(i => i.complete && i.naturalWidth)")
    await page.screenshot(path=screenshot_path(name))


@pytest.mark.parametrize("lang", ["fr", "en"])
async def test_default_positions_never_overlap(make_server: Any, new_page: Any, lang: str) -> None:
    server = await make_server(**{**CHANNEL, "incentives": [*CHANNEL["incentives"], THIRD_TARGET]}, teams=TEAMS)
    await seed(server)
    status, _ = await server.post("/api/v1/channels/demo/timer/start", {})
    assert status == 200
    pages = {}
    for name in WIDGETS:
        pages[name], _ = await open_overlay(new_page, server, name, f"&lang={lang}")
    await server.donate(amount="8.00", donor_name="Léon")  # a fifth donor: the leaderboard is full
    await server.post("/api/v1/channels/demo/alerts/clear")  # its short alert would play first
    # The largest alert a donor can make: a long name, the longest message the donate page
    # takes, and the match line.
    await server.donate(amount="40.00", donor_name=LONG_NAME, message=LONG_MESSAGE)
    await pages["alert"].wait_for_function(ALERT_NAME, arg={"name": LONG_NAME})
    await pages["alert"].wait_for_function(WHOLE)  # once the font has loaded, the message fits again
    boxes, shots = {}, []
    for name, page in pages.items():
        await animations_done(page)
        boxes[name] = await page.evaluate(BOX)
        shots.append(await page.screenshot(omit_background=True))
    await stacked_screenshot(new_page, server, shots, f"layout-defaults-stacked-{lang}")
    Path(screenshot_path(f"layout-defaults-boxes-{lang}")).with_suffix(".json").write_text(json.dumps(boxes, indent=1))
    assert all(boxes.values()), boxes  # every widget shows something
    assert all(0 <= b[0] and 0 <= b[1] and b[2] <= 1920 and b[3] <= 1080 for b in boxes.values()), boxes
    # The alert too: the middle of the picture is its own, even with the largest content, in a
    # box of at most 720×440 px whose message stays readable.
    assert overlapping(boxes) == [], boxes
    alert = boxes["alert"]
    assert alert[2] - alert[0] <= 720 and alert[3] - alert[1] <= 440, alert
    assert await pages["alert"].evaluate(MESSAGE_PX) >= 18


async def test_gallery_place_chooser_rewrites_the_address(make_server: Any, new_page: Any) -> None:
    server = await make_server(**CHANNEL)
    page, log = await new_page(server.url)
    await page.goto(f"{server.url}/widgets/demo?key={OVERLAY_KEY}&lang=fr")
    card = page.locator("#widget-poll")
    address = card.locator(".card__url input").first
    await expect(card.locator(".card__place legend")).to_have_text("Place à l'écran")
    await expect(card.get_by_role("radio", name="poll: en haut", exact=True)).to_be_checked()  # the default
    await card.get_by_role("radio", name="poll: en bas à gauche").check()
    await expect(address).to_have_value(f"http://127.0.0.1:8080/overlay/demo/poll?key={OVERLAY_KEY}"
                                        "&position=bottom-left")
    preview = page.frame_locator("#widget-poll iframe")
    await expect(preview.locator(".w-poll")).to_have_attribute("data-position", "bottom-left")
    # Each poll at its own address, placed as chosen too.
    await expect(card.locator(".card__url input").nth(1)).to_have_value(
        f"http://127.0.0.1:8080/overlay/demo/poll?key={OVERLAY_KEY}&poll=game&position=bottom-left")
    await card.get_by_role("radio", name="poll: en haut", exact=True).check()
    await expect(address).to_have_value(f"http://127.0.0.1:8080/overlay/demo/poll?key={OVERLAY_KEY}")
    await expect(page.locator("#widget-targets .card__url input").nth(2)).to_have_value(
        f"http://127.0.0.1:8080/overlay/demo/targets?key={OVERLAY_KEY}&target=speed")
    await page.locator("#widget-poll").screenshot(path=screenshot_path("gallery-place-chooser"))

    await page.goto(f"{server.url}/widgets/demo?key={OVERLAY_KEY}")  # English
    await expect(page.locator("#widget-goal .card__place legend")).to_have_text("Place on screen")
    await expect(page.get_by_role("radio", name="goal: top left")).to_be_checked()
    log.assert_clean()
