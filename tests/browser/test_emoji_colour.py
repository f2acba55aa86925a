"""Emoji in a donor's name are drawn in colour, like those of the message, in every widget that
shows names and in every font of the ``font`` setting.

Each emoji is screenshotted alone (the box of a range over it) and its pixels counted: a colour
emoji has many far from grey, a monochrome outline glyph (DejaVu Sans, which ``system-ui`` is on
Debian, has one for 🐱) has none."""
from __future__ import annotations

import base64
from typing import Any

import pytest

from overlay.widgets.fonts import FONTS
from tests.browser.conftest import animations_done, screenshot_path
from tests.browser.test_widgets import CHANNEL, open_overlay

EMOJI = ("🎉", "🐱")
NAME = "Zoé " + "".join(EMOJI)
MESSAGE = "Bravo " + "".join(EMOJI)
# Where each widget shows the name and the message (None: it shows no message).
WHERE = {"alert": (".w-alert [data-role=name]", ".w-alert [data-role=message]", ""),
         "ticker": (".w-ticker .ticker__name", ".w-ticker .ticker__message", "&show_messages=true"),
         "leaderboard": (".w-leaderboard .board__name", None, "")}
EMOJI_BOX = """([selector, emoji]) => {
    const walker = document.createTreeWalker(document.querySelector(selector), NodeFilter.SHOW_TEXT);
    for (let node; (node = walker.nextNode());) {
        const at = node.data.indexOf(emoji);
        if (at < 0) continue;
        const range = document.createRange();
        range.setStart(node, at);
        range.setEnd(node, at + emoji.length);
        const r = range.getBoundingClientRect();
        return {x: r.x, y: r.y, width: r.width, height: r.height};
    }
    return null;
}"""
# The share of a PNG's pixels whose channels lie far apart (not a shade of grey).
COLOURED = """async url => {
    const img = new Image();
    img.src = url;
    await img.decode();
    const canvas = document.createElement('canvas');
    [canvas.width, canvas.height] = [img.width, img.height];
    const g = canvas.getContext('2d');
    g.drawImage(img, 0, 0);
    const d = g.getImageData(0, 0, img.width, img.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) n += Math.max(d[i], d[i + 1], d[i + 2]) - Math.min(d[i], d[i + 1], d[i + 2]) > 80;
    return n / (d.length / 4);
}"""


async def coloured(page: Any, selector: str, emoji: str, shot: str) -> float:
    box = await page.evaluate(EMOJI_BOX, [selector, emoji])
    assert box and box["width"] > 0, (selector, emoji)
    png = await page.screenshot(clip=box, path=screenshot_path(shot))
    return await page.evaluate(COLOURED, "data:image/png;base64," + base64.b64encode(png).decode())


@pytest.mark.parametrize("font", sorted(FONTS))
async def test_emoji_in_names_are_in_colour_like_in_messages(make_server: Any, new_page: Any, font: str) -> None:
    server = await make_server(**CHANNEL)
    await server.donate(amount="30.00", donor_name=NAME, message=MESSAGE)
    found = {}
    for widget, (name, message, query) in WHERE.items():
        page, log = await open_overlay(new_page, server, widget, f"&font={font}{query}")
        await page.wait_for_function("n => !!document.querySelector(n)?.textContent.includes('🐱')", arg=name)
        await page.evaluate("() => document.fonts.ready")
        await animations_done(page)  # the alert's message fades in after its name
        for part, selector in (("name", name), ("message", message)):
            for i, emoji in enumerate(EMOJI if selector else ()):
                found[widget, part, emoji] = await coloured(page, selector, emoji,
                                                            f"emoji-{widget}-{part}-{i}-{font}")
        log.assert_clean()
    # A colour emoji: about a fifth of its box is far from grey; an outline glyph: nothing.
    assert {k: v for k, v in found.items() if v < 0.05} == {}, found
