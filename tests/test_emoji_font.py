"""The vendored emoji font: its CSS names each file by its current hashed URL, every page links it."""
from __future__ import annotations

import re
from typing import Any

from overlay.http.pages import PACKAGE, StaticFiles
from tests.support import OVERLAY_KEY

FONT_DIR = PACKAGE / "static" / "vendor" / "noto-color-emoji"


def test_emoji_css_points_at_the_current_font_files() -> None:
    css = (FONT_DIR / "emoji.css").read_text(encoding="utf-8")
    urls = re.findall(r'url\("([^"]+)"\)', css)
    static = StaticFiles()
    files = sorted(p.name for p in FONT_DIR.glob("*.woff2"))
    assert len(urls) == len(files) == 11
    assert sorted(urls) == sorted(static.url(f"vendor/noto-color-emoji/{name}") for name in files)
    assert (FONT_DIR / "LICENSE").read_text().count("SIL OPEN FONT LICENSE") >= 1


async def test_pages_link_the_emoji_font_and_it_is_cached_for_good(server: Any) -> None:
    link = StaticFiles().url("vendor/noto-color-emoji/emoji.css")
    for path in (f"/overlay/demo/alert?key={OVERLAY_KEY}", "/donate/demo", "/dashboard/demo",
                 f"/widgets/demo?key={OVERLAY_KEY}"):
        status, html = await server.request("GET", path, headers={})
        assert status == 200 and link in html, path
    font = re.search(r'url\("([^"]+)"\)', (FONT_DIR / "emoji.css").read_text()).group(1)
    async with server.http.get(server.url + font) as r:
        assert r.status == 200 and r.headers["Content-Type"] == "font/woff2"
        assert r.headers["Cache-Control"] == "public, max-age=31536000, immutable"


def test_emoji_ranges_leave_letters_digits_and_the_space_to_the_text_font() -> None:
    """The emoji family comes first in every font stack: it must not take what text fonts draw."""
    css = (FONT_DIR / "emoji.css").read_text(encoding="utf-8")
    covered = set()
    for first, last in re.findall(r"U\+([0-9a-f]+)(?:-([0-9a-f]+))?", css):
        covered.update(range(int(first, 16), int(last or first, 16) + 1))
    assert covered & {*range(0x20, 0x7F), 0xA9, 0xAE, 0x2122} == set()
    assert {0x1F389, 0x1F431, 0x200D, 0xFE0F} <= covered  # 🎉 🐱, joiner, emoji presentation
    for path in ("overlay.css", "donate/donate.css", "gallery.css", "live/live.css", "dashboard/dashboard.css",
                 "dashboard/summary.css"):
        stacks = re.findall(r"font(?:-family)?:\s*(?:\d+px/[\d.]+\s+)?([^;]*Emoji[^;]*);",
                            (PACKAGE / "static" / path).read_text(encoding="utf-8"))
        assert stacks and all(s.startswith('"Overlay Emoji", ') for s in stacks), (path, stacks)
