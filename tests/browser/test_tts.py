"""The alert overlay says the message after its sound, in a real Chromium (docs/tts.md)."""
from __future__ import annotations

import logging
from typing import Any

import pytest
from playwright.async_api import expect

from tests.browser.conftest import screenshot_path
from tests.browser.dashboard_support import log_in
from tests.browser.test_widgets import open_overlay
from tests.speech import ENGINES, MESSAGES, REASONS, need_espeak, tts_settings

CHANNEL = {"alerts": {"min_amount": "1.00", "duration_ms": 120_000, "gap_ms": 200,
                      "tts": {"enabled": True, "min_amount": "5.00", "max_chars": 200}}}
MESSAGE = "Bravo à toute l'équipe, on lâche rien jusqu'à la fin du live !"
SPEECH = ".w-alert [data-role=speech]"
# The speech element's state, as the page sees it: the media element's own events and clock.
SPEAKING = """([sel, t]) => { const a = document.querySelector(sel);
    return !!a && !a.paused && a.currentTime > t && a.src.includes('/tts/'); }"""
RECORD = """sel => { const a = document.querySelector(sel); window.speechEvents = [];
    for (const e of ['play', 'playing', 'pause', 'ended']) a.addEventListener(e, () => window.speechEvents.push(e)); }"""


@pytest.mark.parametrize("engine", ENGINES)
async def test_overlay_plays_the_spoken_message_after_the_sound(make_server: Any, new_page: Any, engine: str,
                                                                caplog: Any) -> None:
    caplog.set_level(logging.INFO, logger="overlay.speech")
    alerts = CHANNEL["alerts"]
    server = await make_server(alerts={**alerts, "tts": {**alerts["tts"], **tts_settings(engine)}})
    assert f"text-to-speech for demo: {REASONS[engine]}" in caplog.messages  # this engine, no fallback
    page, log = await open_overlay(new_page, server, "alert", "&speech_volume=0.8")
    await page.evaluate(RECORD, SPEECH)
    await server.donate(amount="20.00", donor_name="Capucine", message=MESSAGES[engine])
    await page.wait_for_selector(".w-alert [data-role=card]:not([hidden])")
    # The clock of the media element advancing is what "it plays" means; a second of it is speech.
    await page.wait_for_function(SPEAKING, arg=[SPEECH, 1.0])
    found = await page.evaluate("""sel => { const a = document.querySelector(sel);
        return {volume: a.volume, duration: a.duration, events: window.speechEvents}; }""", SPEECH)
    assert found["volume"] == 0.8 and found["duration"] > 1.5 and "playing" in found["events"], found
    await page.screenshot(path=screenshot_path(f"tts-alert-speaking-{engine}"))
    log.assert_clean()


async def test_skip_speech_from_the_dashboard_stops_the_voice_not_the_picture(
        make_server: Any, new_page: Any) -> None:
    need_espeak()
    server = await make_server(**CHANNEL)
    overlay, log = await open_overlay(new_page, server, "alert")
    dashboard, dash_log = await new_page(server.url)
    await log_in(dashboard, server.url, query="?lang=en")
    await server.donate(amount="20.00", donor_name="Capucine", message=MESSAGE * 2)
    await overlay.wait_for_function(SPEAKING, arg=[SPEECH, 0.3])
    await dashboard.screenshot(path=screenshot_path("tts-dashboard-skip-speech"))
    await dashboard.get_by_role("button", name="Skip speech").click()
    await overlay.wait_for_function(f"() => document.querySelector('{SPEECH}').paused")
    await expect(overlay.locator(".w-alert [data-role=card]")).to_be_visible()
    await expect(dashboard.locator("#tts-status")).to_contain_text("eSpeak NG")
    log.assert_clean()
    dash_log.assert_clean()
