"""The donor's display choice in a real Chromium: chosen on the donate page, honoured by overlays."""
from __future__ import annotations

from typing import Any

from playwright.async_api import expect

from tests.browser.conftest import screenshot_path
from tests.browser.dashboard_support import log_in
from tests.browser.test_donate_page import PHONE, donations, fits_the_screen
from tests.browser.test_widgets import CHANNEL, open_overlay


async def test_the_donate_page_offers_the_choice(make_server: Any, new_page: Any) -> None:
    server = await make_server()
    page, log = await new_page(server.url, **PHONE)
    assert (await page.goto(server.url + "/donate/demo")).status == 200
    assert await page.text_content(".shown-as legend") == "Affiché en direct"
    assert await page.is_checked("#shown-full") and await page.is_checked("#show-amount")
    assert await page.is_disabled("#alias")  # only with "alias"
    await page.fill("#donor-name", "Léa Martin")
    await page.check("#shown-alias")
    assert not await page.is_disabled("#alias")
    await page.fill("#alias", "La Fée")
    await page.check("#shown-first")
    assert await page.is_disabled("#alias")
    await page.uncheck("#show-amount")
    await fits_the_screen(page)
    await page.locator(".shown-as").screenshot(path=screenshot_path("donate-display-choice"))
    await page.screenshot(path=screenshot_path("donate-display-choice-page"), full_page=True)
    async with page.expect_navigation():
        await page.click("button.give")
    assert "/donate/demo/thanks?d=" in page.url
    [pledged] = await donations(server)
    assert (pledged["donor_name"], pledged["display_name"], pledged["show_amount"], pledged["public_name"]) == \
        ("Léa Martin", "first", False, "Léa")
    log.assert_clean()


async def test_an_alias_is_required_when_chosen(make_server: Any, new_page: Any) -> None:
    server = await make_server()
    page, log = await new_page(server.url, locale="en-US")
    assert (await page.goto(server.url + "/donate/demo?lang=en")).status == 200
    await page.check("#shown-alias")
    await page.click("button.give")
    await page.wait_for_selector("#alias-error")
    assert await page.text_content("#alias-error") == "Choose an alias, or another option."
    assert await page.is_checked("#shown-alias") and await donations(server) == []
    log.console_errors[:] = [e for e in log.console_errors if "status of 422" not in e]
    log.assert_clean()


async def test_alert_and_ticker_show_a_first_name_and_no_amount(make_server: Any, new_page: Any) -> None:
    server = await make_server(**CHANNEL)
    alert, alert_log = await open_overlay(new_page, server, "alert")
    ticker, ticker_log = await open_overlay(new_page, server, "ticker")
    await server.donate(amount="12.50", donor_name="Marie Curie", display_name="first", show_amount=False,
                        message="Pour la science !")
    await alert.wait_for_selector(".w-alert [data-role=card]:not([hidden])")
    text = await alert.evaluate("""() => Object.fromEntries(['name', 'amount', 'match', 'message'].map(
        r => [r, document.querySelector(`.w-alert [data-role=${r}]`)]).map(([r, n]) => [r, n.hidden ? null : n.textContent]))""")
    assert text == {"name": "Marie", "amount": "a donné", "match": None, "message": "Pour la science !"}
    await alert.screenshot(path=screenshot_path("alert-first-name-no-amount"))
    await ticker.wait_for_selector(".ticker__item .ticker__name:text('Marie')")
    item = ticker.locator(".ticker__item", has_text="Marie").first
    assert await item.locator(".ticker__amount").count() == 0
    assert "12,50" not in await item.text_content()
    await ticker.screenshot(path=screenshot_path("ticker-first-name-no-amount"))
    alert_log.assert_clean()
    ticker_log.assert_clean()


async def test_the_dashboard_shows_the_real_name_and_what_was_chosen(make_server: Any, new_page: Any) -> None:
    server = await make_server()
    page, log = await new_page(server.url)
    await log_in(page, server.url)
    d = await server.donate(amount="12.50", donor_name="Marie Curie", display_name="first", show_amount=False)
    row = page.locator(f'#feed-body tr[data-id="{d["id"]}"]')
    await expect(row.locator(".name")).to_have_text("Marie Curie")
    await expect(row.locator(".shown-tag")).to_have_text("shown as Marie · amount hidden")
    await expect(row.locator("td.num").first).to_have_text("12,50\u00a0€")
    await page.locator("#feed").screenshot(path=screenshot_path("dashboard-donor-choice"))
    log.assert_clean()
