"""The viewer page /live/{ch} in a real Chromium on a phone, with a real aiortc publisher over WHIP."""
from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlparse

from playwright.async_api import expect

from tests.browser.conftest import animations_done, screenshot_path
from tests.browser.dashboard_support import log_in
from tests.live.peers import publish, watch

STREAM_KEY = "sk-test-123"
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True,
         "locale": "fr-FR"}
# Functions, not bare expressions: Playwright evaluates a bare expression with eval(), which the CSP forbids.
VIDEO = "() => { const v = document.getElementById('live-video'); return [v.currentTime, v.videoWidth, v.paused]; }"
CODECS = "() => RTCRtpReceiver.getCapabilities('video').codecs.map(c => c.mimeType.toLowerCase())"
OVERLAPS = """([a, b]) => {
    const r = document.querySelector(a).getBoundingClientRect(), s = document.querySelector(b).getBoundingClientRect();
    return r.width > 0 && r.left < s.right && s.left < r.right && r.top < s.bottom && s.top < r.bottom; }"""


async def open_live(new_page: Any, server: Any, query: str = "") -> tuple[Any, Any]:
    page, log = await new_page(server.url, **PHONE)
    response = await page.goto(f"{server.url}/live/demo{query}")
    assert response.status == 200
    return page, log


async def test_the_live_page_plays_the_stream_with_sticker_and_alerts(make_server: Any, new_page: Any) -> None:
    server = await make_server(live={"stream_key": STREAM_KEY},
                               alerts={"min_amount": "1.00", "duration_ms": 120_000, "gap_ms": 100})
    await server.donate(amount="1234.00", donor_name="Early bird")
    await server.post("/api/v1/channels/demo/alerts/clear")
    page, log = await open_live(new_page, server)

    # Before anyone publishes: the offline state, and no video.
    await expect(page.locator("#live")).to_have_attribute("data-state", "offline")
    await expect(page.get_by_text("Le direct est hors ligne")).to_be_visible()
    await expect(page.locator("#live-badge")).to_have_text("Hors ligne")
    await expect(page.locator("#live-sound")).to_be_hidden()  # nothing to unmute while offline
    await expect(page.locator(".w-goal [data-role=total]")).not_to_be_empty()  # widgets work offline too
    await page.screenshot(path=screenshot_path("live-offline-phone"))

    # The Debian Chromium may lack H.264; VP8 is always there.
    codec = "video/H264" if "video/h264" in await page.evaluate(CODECS) else "video/VP8"
    publisher = await publish(server.http, server.url, "demo", STREAM_KEY, codec=codec)
    try:
        # No reload: the status poll sees the publisher and the page starts the video by itself.
        await expect(page.locator("#live")).to_have_attribute("data-state", "playing")
        first = await page.evaluate(VIDEO)
        await page.wait_for_function(f"t => ({VIDEO})()[0] > t", arg=first[0])  # the video moves on
        later = await page.evaluate(VIDEO)
        assert later[1] == 320 and not later[2], later
        assert later[0] > first[0], (first, later)
        await expect(page.locator("#live-badge")).to_have_text("En direct")
        await expect(page.locator("#viewer-label")).to_have_text("1 spectateur")
        await expect(page.locator("#viewer-number")).to_have_text("1")

        donate = page.get_by_role("link", name="Faire un don")
        assert await donate.get_attribute("href") == f"{server.config.server.public_url}/donate/demo"
        assert await donate.get_attribute("target") == "_blank"
        await expect(page.locator("#live-donate [data-role=raised]")).to_contain_text("2\u202f468,00")  # matched ×2

        sound = page.get_by_role("button", name="Activer le son")
        await sound.click()
        await expect(page.get_by_role("button", name="Couper le son")).to_be_visible()
        assert await page.evaluate("() => document.getElementById('live-video').muted") is False

        await server.donate(amount="5", donor_name="Zoé", message="Allez !")
        name = page.locator(".w-alert [data-role=name]")
        await expect(name).to_have_text("Zoé")
        await expect(name).to_be_visible()
        assert await page.evaluate(OVERLAPS, [".w-alert .alert", "#live-video"])
        assert await page.evaluate("() => document.documentElement.scrollWidth") <= 390
        await animations_done(page)  # the alert's entrance
        await page.screenshot(path=screenshot_path("live-phone"))
    finally:
        await publisher.pc.close()
    log.assert_clean()


async def test_the_live_page_speaks_english_when_asked(make_server: Any, new_page: Any) -> None:
    server = await make_server(live={"stream_key": STREAM_KEY})
    page, log = await open_live(new_page, server, "?lang=en")
    await expect(page.locator("#live-badge")).to_have_text("Offline")
    await expect(page.get_by_text("The stream is offline")).to_be_visible()
    await expect(page.locator("#live-sound")).to_be_hidden()  # offline: nothing to unmute
    await expect(page.get_by_role("link", name="Donate")).to_be_visible()
    await page.set_viewport_size({"width": 1280, "height": 720})
    await animations_done(page)
    await page.screenshot(path=screenshot_path("live-offline-desktop"))
    log.assert_clean()


async def test_the_dashboard_shows_the_publisher_bitrate_and_viewers(make_server: Any, new_page: Any) -> None:
    server = await make_server(live={"stream_key": STREAM_KEY})
    page, log = await new_page(server.url)
    await log_in(page, server.url)
    section = page.locator("#live-status")
    await expect(section).to_be_visible()
    await expect(page.locator("#live-badge")).to_have_text("Off air")
    await expect(page.locator("#live-publisher")).to_have_text("Not connected")
    await expect(page.locator("#live-bitrate")).to_have_text("—")

    publisher = await publish(server.http, server.url, "demo", STREAM_KEY, codec="video/VP8")
    viewer = None
    try:
        await expect(page.locator("#live-badge")).to_have_text("On air")
        await expect(page.locator("#live-publisher")).to_have_text("Connected")
        await expect(page.locator("#live-since")).not_to_have_text("—")
        viewer = await watch(server.http, server.url, "demo")
        await expect(page.locator("#live-viewers")).to_have_text("1")
        await expect(page.locator("#live-bitrate")).to_have_text(re.compile(r"^[1-9][\d,]* kbit/s$"))
        await section.screenshot(path=screenshot_path("dashboard-live-status"))
    finally:
        if viewer is not None:
            await viewer.close()
        await publisher.pc.close()
    await expect(page.locator("#live-badge")).to_have_text("Off air")
    await expect(page.locator("#live-viewers")).to_have_text("0")
    log.assert_clean()


async def test_with_whep_url_the_page_plays_from_that_server(make_server: Any, new_page: Any, tmp_path: Any) -> None:
    # Another server's WHEP endpoint stands in for MediaMTX: another origin, CORS, its own ICE.
    media = await make_server(data_dir=tmp_path / "media", live={"stream_key": STREAM_KEY})
    server = await make_server(data_dir=tmp_path / "page", live={"whep_url": f"{media.url}/whep/demo"})
    page, log = await open_live(new_page, server)
    await expect(page.locator("#live")).to_have_attribute("data-state", "offline", timeout=10000)
    codec = "video/H264" if "video/h264" in await page.evaluate(CODECS) else "video/VP8"
    publisher = await publish(media.http, media.url, "demo", STREAM_KEY, codec=codec)
    try:
        # No status to poll there: the page offers again every few seconds until it is answered.
        await expect(page.locator("#live")).to_have_attribute("data-state", "playing", timeout=30000)
        await expect(page.locator("#live-badge")).to_have_text("En direct")
        await expect(page.locator("#viewer-count")).to_be_hidden()
        async with media.http.get(f"{media.url}/live/demo/status") as r:
            assert (await r.json())["viewers"] == 1  # the viewer is the media server's, not ours
        await expect(page.locator(".w-goal [data-role=total]")).not_to_be_empty()  # our overlays, drawn by us
    finally:
        await publisher.pc.close()
    assert log.page_errors == []
    # The offers went to the media server (its 404s while offline are the browser's only complaints).
    assert {urlparse(u).netloc for u in log.outside_requests} == {urlparse(media.url).netloc}
    assert all("404" in message for message in log.console_errors), log.console_errors
