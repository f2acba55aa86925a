"""Donor text is never cut silently: the longest name and message the donate page accepts are
shown whole on the alert, and target titles wrap instead of ending in an ellipsis."""
from __future__ import annotations

from typing import Any

from tests.browser.conftest import animations_done, screenshot_path
from tests.browser.test_widgets import ALERT_NAME, CHANNEL, open_overlay

# 255 characters (moderation.max_message_length's default), 64 (the longest donor name kept).
MESSAGE = ("Un immense merci pour ce marathon, vous êtes incroyables ! Je donne pour les Restos parce que "
           "chaque repas compte, et je vous regarde depuis le début avec mes enfants. Courage pour la "
           "dernière ligne droite, on est des milliers derrière vous, allez !!")[:255].ljust(255, "!")
NAME = "Marie-Hélène de La Tour d'Auvergne-Montmorency Saint-Exupéry XIV"[:64].ljust(64, "X")
# Every text element shown whole: as tall with its limits lifted (max-height, line clamp) as it
# is shown, and nothing past its width.
WHOLE = """sel => [...document.querySelectorAll(sel)].filter(el => !el.closest('[hidden]')).map(el => {
    const shown = el.getBoundingClientRect().height, wide = el.scrollWidth > el.clientWidth + 1;
    el.style.cssText += ';max-height:none;-webkit-line-clamp:none;line-clamp:none';
    const whole = el.getBoundingClientRect().height;
    el.style.cssText = el.style.cssText.replace(/max-height[^;]*;|-webkit-line-clamp[^;]*;|line-clamp[^;]*;/g, '');
    return {text: el.textContent, cut: wide || whole > shown + 1};
})"""


async def test_alert_shows_the_longest_name_and_message_whole(make_server: Any, new_page: Any) -> None:
    assert (len(MESSAGE), len(NAME)) == (255, 64)
    server = await make_server(**CHANNEL)
    page, log = await open_overlay(new_page, server, "alert")
    await server.donate(amount="50.00", donor_name=NAME, message=MESSAGE)
    await page.wait_for_function(ALERT_NAME, arg={"name": NAME})
    await animations_done(page)
    await page.screenshot(path=screenshot_path("alert-longest-text"))
    for role, text in (("name", NAME), ("message", MESSAGE)):
        assert await page.evaluate(WHOLE, f".w-alert [data-role={role}]") == [
            {"text": text, "cut": False}], role
    box = await page.evaluate("() => document.querySelector('.w-alert .alert').getBoundingClientRect().toJSON()")
    assert box["top"] >= 0 and box["bottom"] <= 1080, box
    log.assert_clean()


async def test_target_titles_wrap_instead_of_being_cut(make_server: Any, new_page: Any) -> None:
    long_title = {"id": "dye", "kind": "target", "title": "Teinture de barbe en direct avec le chat", "amount": "5000.00"}
    server = await make_server(**{**CHANNEL, "incentives": [*CHANNEL["incentives"], long_title]})
    await server.donate(amount="60.00", incentive={"id": "hair"})
    page, log = await open_overlay(new_page, server, "targets")
    await page.wait_for_function("() => document.querySelectorAll('.w-targets .targets__name').length === 3")
    await animations_done(page)
    await page.screenshot(path=screenshot_path("targets-long-titles"))
    shown = await page.evaluate(WHOLE, ".w-targets .targets__name")
    assert [s["text"] for s in shown] == [long_title["title"], "Speedrun les yeux bandés", "Cheveux roses"]
    assert not any(s["cut"] for s in shown), shown
    log.assert_clean()
