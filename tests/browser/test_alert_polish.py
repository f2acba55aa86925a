"""The alert box's finish in a real Chromium: fonts, the heart in the widget's colours, videos
and JPEGs from the media library, colour emoji in names, opaque panels over bright footage,
and a test donation that shows the match line."""
from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from playwright.async_api import expect

from tests.browser.conftest import animations_done, screenshot_path
from tests.browser.test_widgets import BACKDROPS, CHANNEL, open_overlay
from tests.support import AUTH, OVERLAY_KEY

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "media"
CARD = ".w-alert [data-role=card]:not([hidden])"
EMOJI = "Zoé 🎉🔥💜❤️✨⭐"
MEDIA = "/api/v1/channels/demo/media"
# The computed colours of the heart's parts, and of the panel behind the words.
HEART = """() => { const q = (s) => getComputedStyle(document.querySelector(s));
  return { mid: q('.alert__heart-mid').stopColor, sparkles: q('.alert__sparkles').fill,
           shown: !document.querySelector('.w-alert [data-role=heart]').closest('[hidden]') }; }"""
PANEL_ALPHA = r"""() => { const c = getComputedStyle(document.querySelector('.w-alert .alert__panel')).backgroundColor;
  const m = c.match(/rgba?\(([^)]+)\)/)[1].split(',').map(Number); return m.length === 4 ? m[3] : 1; }"""
# How many pixels of a PNG are clearly coloured (not grey, white or black): decoded in the page.
COLOURFUL = """async (png) => {
  const img = new Image();
  img.src = 'data:image/png;base64,' + png;
  await img.decode();
  const c = document.createElement('canvas');
  c.width = img.width; c.height = img.height;
  const g = c.getContext('2d');
  g.drawImage(img, 0, 0);
  const d = g.getImageData(0, 0, c.width, c.height).data;
  let n = 0;
  for (let i = 0; i < d.length; i += 4) {
    if (Math.max(d[i], d[i + 1], d[i + 2]) - Math.min(d[i], d[i + 1], d[i + 2]) > 90) n++;
  }
  return n;
}"""


async def open_alert(new_page: Any, server: Any, query: str = "") -> tuple[Any, Any]:
    return await open_overlay(new_page, server, "alert", query)


async def colourful(page: Any, selector: str) -> int:
    png = await page.locator(selector).screenshot()
    return await page.evaluate(COLOURFUL, base64.b64encode(png).decode())


async def backdrop(page: Any, name: str) -> None:
    await page.evaluate("css => { document.documentElement.style.background = css; }", BACKDROPS[name])


async def test_emoji_in_a_donor_name_are_in_colour_as_in_messages(make_server: Any, new_page: Any) -> None:
    server = await make_server(**CHANNEL)
    # Grey colours: any colour on screen is the emoji's.
    page, log = await open_alert(new_page, server, "&accent_color=808080&second_color=808080&show_image=false")
    await server.donate(amount="5", donor_name=EMOJI, message=EMOJI)
    await page.wait_for_selector(CARD)
    await animations_done(page)
    await page.screenshot(path=screenshot_path("alert-emoji-name"))
    in_name = await colourful(page, ".w-alert [data-role=name]")
    in_message = await colourful(page, ".w-alert [data-role=message]")
    assert in_message > 100 and in_name > 100, (in_name, in_message)
    log.assert_clean()


async def upload(server: Any, filename: str) -> dict[str, Any]:
    status, got = await server.request("POST", f"{MEDIA}?name={filename}", data=(FIXTURES / filename).read_bytes(),
                                       headers={**AUTH, "Content-Type": "application/octet-stream"})
    assert status in (200, 201), got
    return got


async def test_the_default_heart_takes_the_widgets_colours(make_server: Any, new_page: Any) -> None:
    server = await make_server(**CHANNEL)
    page, log = await open_alert(new_page, server, "&accent_color=22aa55&second_color=ffcc00")
    await server.donate(amount="5", donor_name="Camille")
    await page.wait_for_selector(CARD)
    assert await page.evaluate(HEART) == {"mid": "rgb(34, 170, 85)", "sparkles": "rgb(255, 204, 0)", "shown": True}
    await expect(page.locator(".w-alert [data-role=image]")).to_be_hidden()
    await animations_done(page)
    await page.screenshot(path=screenshot_path("alert-heart-green"))
    log.assert_clean()


async def test_a_video_plays_in_place_of_the_picture_with_its_own_sound(make_server: Any, new_page: Any) -> None:
    server = await make_server(**CHANNEL)
    video = await upload(server, "tone.webm")
    jpeg = await upload(server, "blue.jpg")
    assert (video["kind"], jpeg["kind"]) == ("video", "image")
    page, log = await open_alert(new_page, server, f"&tier_images={video['name']}&volume=0.3")
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    await server.donate(amount="5", donor_name="Camille")
    await page.wait_for_selector(CARD)
    clip = page.locator(".w-alert [data-role=video]")
    await expect(clip).to_be_visible()
    await expect(clip).to_have_attribute("src", video["url"])
    # It plays, with its sound at the alert's volume; the chime is not asked for.
    await page.wait_for_function("""() => { const v = document.querySelector('.w-alert [data-role=video]');
        return v.currentTime > 0.2 && !v.paused && !v.muted && v.volume === 0.3; }""")
    assert not any(u.endswith(".wav") for u in requested), requested
    await expect(page.locator(".w-alert [data-role=heart]")).to_be_hidden()
    await page.screenshot(path=screenshot_path("alert-video"))
    log.assert_clean()

    photo, photo_log = await open_alert(new_page, server, f"&tier_images={jpeg['name']}")
    await server.post("/api/v1/channels/demo/alerts/clear")
    await server.donate(amount="6", donor_name="Sam")
    await photo.wait_for_function("() => document.querySelector('.w-alert [data-role=image]').naturalWidth === 160")
    await expect(photo.locator(".w-alert [data-role=video]")).to_be_hidden()
    await animations_done(photo)
    await photo.screenshot(path=screenshot_path("alert-jpeg"))
    photo_log.assert_clean()


async def test_panels_are_opaque_by_default_over_bright_footage(make_server: Any, new_page: Any) -> None:
    server = await make_server(**CHANNEL)
    for theme in ("dark", "light"):
        page, log = await open_alert(new_page, server, f"&theme={theme}")
        await backdrop(page, "light")
        await server.post("/api/v1/channels/demo/alerts/clear")
        await server.donate(amount="5", donor_name=f"Lou {theme}", message="Allez !")
        await page.wait_for_selector(CARD)
        await expect(page.locator(".w-alert")).to_have_attribute("data-panel", "opaque")
        assert await page.evaluate(PANEL_ALPHA) >= 0.9
        await animations_done(page)
        await page.screenshot(path=screenshot_path(f"alert-opaque-{theme}-over-light"))
        log.assert_clean()
    glass, log = await open_alert(new_page, server, "&panel=glass")
    await server.donate(amount="5", donor_name="Glass")
    await glass.wait_for_selector(CARD)
    assert await glass.evaluate(PANEL_ALPHA) < 0.9
    log.assert_clean()


async def test_the_font_setting_draws_the_alert_in_a_bundled_font(make_server: Any, new_page: Any) -> None:
    server = await make_server(**CHANNEL)
    page, log = await open_alert(new_page, server, "&font=caveat")
    await server.donate(amount="5", donor_name=EMOJI)
    await page.wait_for_selector(CARD)
    await page.wait_for_function("() => document.fonts.check('700 68px \"Caveat Variable\"')")
    family = await page.evaluate("() => getComputedStyle(document.querySelector('.w-alert .alert__name')).fontFamily")
    assert family.startswith('"Overlay Emoji", "Caveat Variable", cursive'), family  # emoji, then the letters
    # The font came from this server (PageLog fails on any outside request), and emoji stay in colour.
    assert await colourful(page, ".w-alert [data-role=name]") > 100
    await animations_done(page)
    await page.screenshot(path=screenshot_path("alert-font-caveat"))
    log.assert_clean()
    status, body = await server.request("GET", f"/overlay/demo/alert?key={OVERLAY_KEY}&font=comic-sans", headers={})
    assert status == 400 and "font" in body


async def test_a_test_donation_as_if_matched_shows_the_match_line(
        make_server: Any, new_page: Any, tmp_path: Path) -> None:
    for locale, line in (("fr_FR", "+5,00\u00a0€ doublés par TikTok"), ("en_US", "+$5.00 doubled by TikTok")):
        english = {"locale": "en_US", "currency": "USD", "fx": {}} if locale == "en_US" else {}
        server = await make_server(data_dir=tmp_path / locale, **CHANNEL, **english)
        page, log = await open_alert(new_page, server)
        created = await server.donate(amount="5", donor_name="Test", test=True, simulate_match=True)
        await page.wait_for_selector(CARD)
        await expect(page.locator(".w-alert [data-role=match]")).to_have_text(line)
        await expect(page.locator(".w-alert [data-role=test]")).to_be_visible()
        status, st = await server.request("GET", "/api/v1/channels/demo/state")
        assert created["matched"] != "0.00" and st["match"]["used"] == "0.00" and st["campaign"]["raised"] == "0.00"
        await animations_done(page)
        await page.screenshot(path=screenshot_path(f"alert-test-as-if-matched-{locale[:2]}"))
        log.assert_clean()
