"""Every widget added full-screen at 1920×1080 with no settings: no two overlap.

Realistic content: the seed donations, a running match, a started timer, an open poll with
three options, three targets, a team, and an alert on screen."""
from __future__ import annotations

import base64
from typing import Any

from playwright.async_api import expect

from tests.browser.conftest import animations_done, screenshot_path
from tests.browser.test_widgets import CHANNEL, TEAMS, open_overlay, seed
from tests.support import OVERLAY_KEY

# The alert last: it comes in front of the others.
WIDGETS = ("goal", "targets", "team", "poll", "match", "timer", "sticker", "ticker", "leaderboard", "alert")
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


def overlapping(boxes: dict[str, list[float]]) -> list[tuple[str, str]]:
    names = sorted(boxes)
    return [(a, b) for i, a in enumerate(names) for b in names[i + 1:]
            if boxes[a][0] < boxes[b][2] and boxes[b][0] < boxes[a][2]
            and boxes[a][1] < boxes[b][3] and boxes[b][1] < boxes[a][3]]


async def stacked_screenshot(new_page: Any, server: Any, shots: list[bytes]) -> None:
    """All the widgets as OBS stacks them: each page's transparent screenshot, one over the other."""
    page, _ = await new_page(server.url)
    await page.set_content("<body style='margin:0;background:linear-gradient(160deg,#0d1a12,#16202e 60%,#0a0d14)'>"
                           + "".join(f"<img style='position:fixed;inset:0' src='data:image/png;base64,"
                                     f"{base64.b64encode(shot).decode()}'>" for shot in shots) + "</body>")
    await page.wait_for_function("() => [...document.images].every(i => i.complete && i.naturalWidth)")
    await page.screenshot(path=screenshot_path("layout-defaults-stacked"))


async def test_default_positions_never_overlap(make_server: Any, new_page: Any) -> None:
    server = await make_server(**{**CHANNEL, "incentives": [*CHANNEL["incentives"], THIRD_TARGET]}, teams=TEAMS)
    await seed(server)
    status, _ = await server.post("/api/v1/channels/demo/timer/start", {})
    assert status == 200
    pages = {}
    for name in WIDGETS:
        pages[name], _ = await open_overlay(new_page, server, name)
    await server.donate(amount="8.00", donor_name="Léon")  # a fifth donor: the leaderboard is full
    await server.donate(amount="40.00", donor_name="Marie-Hélène", message="Bravo pour ce live, on est avec vous !")
    await pages["alert"].wait_for_selector(".w-alert [data-role=card]:not([hidden])")
    boxes, shots = {}, []
    for name, page in pages.items():
        await animations_done(page)
        boxes[name] = await page.evaluate(BOX)
        shots.append(await page.screenshot(omit_background=True))
    await stacked_screenshot(new_page, server, shots)
    assert all(boxes.values()), boxes  # every widget shows something
    # The alert comes in front, in the middle, for a few seconds: it is the one widget meant to
    # cover others (docs/widgets.md). It stays inside the picture.
    alert = boxes.pop("alert")
    assert alert[0] >= 0 and alert[1] >= 0 and alert[2] <= 1920 and alert[3] <= 1080, alert
    assert overlapping(boxes) == [], boxes


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
