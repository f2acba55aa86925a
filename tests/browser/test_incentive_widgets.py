"""Incentives in a real Chromium: the targets and poll widgets live, the alert box showing the
chosen incentive and a reached target, and the choice on the donate page."""
from __future__ import annotations

from typing import Any

from tests.browser.conftest import animations_done, screenshot_path
from tests.browser.test_donate_page import assert_clean_but, donations, fits_the_screen, phone
from tests.browser.test_widgets import CHANNEL, open_overlay

BASE = "/api/v1/channels/demo"


async def test_poll_race_leader_and_winner(make_server: Any, new_page: Any) -> None:
    server = await make_server(**CHANNEL)
    page, log = await open_overlay(new_page, server, "poll")
    assert await page.text_content(".w-poll [data-role=title]") == "Prochain jeu"
    await server.donate(amount="10.00", incentive={"id": "game", "option": "hades"})
    await page.wait_for_function("() => document.querySelector('.w-poll .is-leader .poll__label')"
                                 "?.textContent === 'Hades'")
    await server.donate(amount="30.00", incentive={"id": "game", "option": "outer"})
    await page.wait_for_function("() => document.querySelector('.w-poll .is-leader .poll__label')"
                                 "?.textContent === 'Outer Wilds'")
    assert await page.text_content(".w-poll [data-role=foot]") == "+40,00\u00a0€ d'avance"
    await animations_done(page)
    await page.screenshot(path=screenshot_path("incentive-poll-race"))

    status, _ = await server.request("PATCH", f"{BASE}/incentives/game", json={"open": False})
    assert status == 200
    await page.wait_for_selector(".w-poll.is-closed .is-leader .poll__badge")
    assert await page.text_content(".w-poll .is-leader .poll__badge") == "Gagnant"
    assert await page.text_content(".w-poll [data-role=status]") == "Vote clos"
    await animations_done(page)
    await page.screenshot(path=screenshot_path("incentive-poll-winner"))
    log.assert_clean()


async def test_alert_names_the_incentive_and_celebrates_a_reached_target(make_server: Any, new_page: Any) -> None:
    server = await make_server(**CHANNEL)
    page, log = await open_overlay(new_page, server, "alert")
    await server.donate(amount="260.00", donor_name="Zoé", incentive={"id": "hair"})
    await page.wait_for_selector(".w-alert [data-role=incentive]:not([hidden])")
    assert await page.text_content(".w-alert [data-role=incentive]") == "pour « Cheveux roses »"
    await page.wait_for_selector(".w-alert [data-role=reached]:not([hidden])")
    assert await page.text_content(".w-alert [data-role=reached]") == "Défi débloqué : Cheveux roses !"
    await animations_done(page)
    await page.screenshot(path=screenshot_path("incentive-alert-reached"))
    log.assert_clean()


async def test_targets_stack_and_follow_edits(make_server: Any, new_page: Any) -> None:
    server = await make_server(**CHANNEL)
    page, log = await open_overlay(new_page, server, "targets", "&lang=en")
    names = "() => [...document.querySelectorAll('.w-targets .targets__name')].map(n => n.textContent)"
    assert await page.evaluate(names) == ["Speedrun les yeux bandés", "Cheveux roses"]  # newest first
    await server.donate(amount="100.00", incentive={"id": "speed"})
    await page.wait_for_function("() => document.querySelectorAll('.w-targets .targets__amounts')[0]"
                                 ".textContent === '200,00\u00a0€ / 2\u202f000,00\u00a0€'")
    status, _ = await server.request("PATCH", f"{BASE}/incentives/speed", json={"amount": "150.00"})
    assert status == 200
    await page.wait_for_selector(".w-targets .targets__row.is-reached")
    assert await page.text_content(".w-targets .is-reached .targets__amounts") == "Unlocked!"
    await animations_done(page)
    await page.screenshot(path=screenshot_path("incentive-targets-unlocked"))
    log.assert_clean()


async def test_donate_page_offers_the_open_incentives(make_server: Any, new_page: Any) -> None:
    channel = {**CHANNEL, "incentives": [*CHANNEL["incentives"],
                                         {"id": "shout", "kind": "reward", "title": "Ton nom à l'écran",
                                          "min_amount": "25.00"}]}
    server = await make_server(**channel)
    page, log = await phone(new_page, server)
    assert (await page.goto(server.url + "/donate/demo")).status == 200
    labels = await page.evaluate("() => [...document.querySelectorAll('#incentive option')].map(o => o.textContent)")
    assert labels == ["La collecte, sans choix particulier", "Cheveux roses", "Speedrun les yeux bandés",
                      "Celeste", "Hades", "Outer Wilds", "Ton nom à l'écran (dès 25,00\u00a0€)"]
    await fits_the_screen(page)
    await page.screenshot(path=screenshot_path("incentive-donate-choice"), full_page=True)

    await page.select_option("#incentive", "shout")  # 5 € is below the reward's minimum
    async with page.expect_navigation():
        await page.click("button.give")
    assert await page.text_content("#incentive-error") == (
        "Ce choix n'est plus possible (clos, épuisé ou au-dessus de votre montant). Choisissez-en un autre ou aucun.")
    assert await page.input_value("#incentive") == "shout"
    await page.select_option("#incentive", "game:hades")
    async with page.expect_navigation():
        await page.click("button.give")
    assert "/donate/demo/thanks" in page.url
    [pledged] = await donations(server)
    assert (pledged["status"], pledged["incentive"]["option"]) == ("pending", "hades")
    assert_clean_but(log, 422)
