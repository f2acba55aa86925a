"""The dashboard's finish in a real Chromium, in English and French: Clear asks twice, a test
donation "as if matched", test donations kept out of "Move a donation", and the media
library listing files by the names they were uploaded with, each player inside its card."""
from __future__ import annotations

from typing import Any

from playwright.async_api import expect

from tests.browser.conftest import animations_done, screenshot_path
from tests.browser.dashboard_support import log_in
from tests.browser.test_alert_polish import CARD, open_alert, upload
from tests.browser.test_editor import open_editor
from tests.browser.test_widgets import CHANNEL

LANGS = {"en": {"as_if": "As if matched", "send": "Send test donation", "line": "+5,00\u00a0€ doubled by TikTok"},
         "fr": {"as_if": "Comme si doublé", "send": "Envoyer un don test", "line": "+5,00\u00a0€ doublés par TikTok"}}


async def test_a_test_donation_as_if_matched_from_the_dashboard(make_server: Any, new_page: Any) -> None:
    server = await make_server(**CHANNEL)
    page, log = await new_page(server.url)
    await log_in(page, server.url)
    for lang, words in LANGS.items():
        obs, obs_log = await open_alert(new_page, server, f"&lang={lang}")
        await page.goto(f"{server.url}/dashboard/demo?lang={lang}")
        await page.locator("#test-amount").fill("5.00")
        await page.get_by_label(words["as_if"]).check()
        await page.get_by_role("button", name=words["send"]).click()
        await obs.wait_for_selector(CARD)
        await expect(obs.locator(".w-alert [data-role=match]")).to_have_text(words["line"])
        await page.locator("#test").screenshot(path=screenshot_path(f"dashboard-test-as-if-matched-{lang}"))
        _, st = await server.request("GET", "/api/v1/channels/demo/state")
        assert st["match"]["used"] == "0.00" and st["campaign"]["raised"] == "0.00"
        await server.post("/api/v1/channels/demo/alerts/clear")
        obs_log.assert_clean()
    log.assert_clean()


async def test_move_a_donation_lists_no_test_donation(make_server: Any, new_page: Any) -> None:
    server = await make_server(**CHANNEL)
    real = await server.donate(amount="7.00", donor_name="Ana", incentive={"id": "hair"})
    test = await server.donate(amount="8.00", donor_name="Rehearsal", test=True)
    page, log = await new_page(server.url)
    await log_in(page, server.url)
    options = page.locator("#move-donation option")
    await expect(options.filter(has_text="Ana")).to_have_count(1)
    values = await options.evaluate_all("os => os.map(o => o.value)")
    assert real["id"] in values and test["id"] not in values
    log.assert_clean()


async def test_the_media_library_shows_file_names_and_fitting_players(make_server: Any, new_page: Any) -> None:
    server = await make_server(**CHANNEL)
    for name in ("tone.wav", "tone.webm", "blue.jpg"):
        await upload(server, name)
    for lang in ("en", "fr"):
        editor, log = await open_editor(new_page, server, lang)
        names = editor.locator("#media-list li .name")
        await expect(names).to_have_count(3)
        assert sorted(await names.all_text_contents()) == ["blue.jpg", "tone.wav", "tone.webm"]
        # Each player lies inside its card.
        overflow = await editor.evaluate("""() => [...document.querySelectorAll('#media-list li')].map(li => {
            const card = li.getBoundingClientRect(), player = li.firstElementChild.getBoundingClientRect();
            return player.left >= card.left && player.right <= card.right; })""")
        assert overflow == [True, True, True]
        # A video is offered where an image is chosen, under its name.
        await expect(editor.locator("#f-tier_images-0 option", has_text="tone.webm")).to_have_count(1)
        await animations_done(editor)
        await editor.locator("#media-list").screenshot(path=screenshot_path(f"editor-media-names-{lang}"))
        log.assert_clean()
