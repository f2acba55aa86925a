"""The donate page in a real Chromium on a phone-sized screen, end to end."""
from __future__ import annotations

from typing import Any

from tests.browser.conftest import screenshot_path

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True,
         "locale": "fr-FR"}


async def phone(new_page: Any, server: Any) -> tuple[Any, Any]:
    return await new_page(server.url, **PHONE)


async def donations(server: Any) -> list[dict[str, Any]]:
    _, body = await server.request("GET", "/api/v1/channels/demo/donations")
    return body["donations"]


def assert_clean_but(log: Any, *statuses: int) -> None:
    """Chromium logs every 4xx document it is served; these pages answer 4xx on purpose."""
    expected = [f"Failed to load resource: the server responded with a status of {s}" for s in statuses]
    seen = [e for e in log.console_errors if any(e.startswith(x) for x in expected)]
    assert len(seen) == len(statuses), log.console_errors
    log.console_errors[:] = [e for e in log.console_errors if e not in seen]
    log.assert_clean()


async def fits_the_screen(page: Any) -> None:
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390


async def test_pledge_from_a_phone(make_server: Any, new_page: Any) -> None:
    server = await make_server()
    await server.donate(amount="1234.00", donor_name="Early bird")
    overlay = await server.listen()
    await overlay.wait_for("state")
    page, log = await phone(new_page, server)
    resp = await page.goto(server.url + "/donate/demo")
    assert resp.status == 200
    await fits_the_screen(page)
    assert await page.text_content(".match-headline") == "Votre don est doublé par TikTok !"
    assert "2\u202f468,00\u00a0€ sur 10\u202f000,00\u00a0€" in await page.text_content(".goal-text")
    width = await page.evaluate("document.querySelector('.goal-fill').getBoundingClientRect().width / "
                                "document.querySelector('.goal-bar').getBoundingClientRect().width")
    assert 0.24 < width < 0.25

    button = page.locator("button.give")
    assert await button.text_content() == "Donner 5\u00a0€"
    await page.locator("label.preset", has_text="20").click()
    assert await button.text_content() == "Donner 20\u00a0€"

    await page.fill("#donor-name", "Léa")
    await page.fill("#message", "Allez les Restos !")
    assert await page.text_content("#message-count") == "18 / 255"
    assert await page.get_attribute("#message", "maxlength") == "255"
    await page.screenshot(path=screenshot_path("donate-mobile"), full_page=True)

    async with page.expect_navigation():
        await button.click()
    assert "/donate/demo/thanks?d=" in page.url
    await fits_the_screen(page)
    assert await page.text_content("h1") == "Merci !"
    # A pledge is a promise: the donor is told it counts once a moderator confirms it.
    assert await page.text_content(".thanks-line") == (
        "Votre promesse de don de 20,00\u00a0€ est bien enregistrée. "
        "Elle comptera dans le total dès qu'un modérateur l'aura confirmée.")
    assert await page.locator(".match-line").count() == 0
    await page.screenshot(path=screenshot_path("donate-thanks-mobile"), full_page=True)

    [pledged] = [d for d in await donations(server) if d["source"] == "pledge"]
    assert (pledged["status"], pledged["amount"], pledged["donor_name"]) == ("pending", "20.00", "Léa")
    status, _ = await server.post(f"/api/v1/channels/demo/donations/{pledged['id']}/confirm")
    assert status == 200
    ev = await overlay.wait_for("donation", lambda e: e["donation"]["source"] == "pledge", timeout=15)
    d = ev["donation"]
    assert (d["amount"], d["matched"], d["donor_name"], d["status"]) == ("20.00", "20.00", "Léa", "approved")
    # Reloading the thank-you page pledges nothing more (post/redirect/get), and now says it counted.
    await page.reload()
    assert await page.text_content(".match-line") == "TikTok ajoute 20,00\u00a0€ : 40,00\u00a0€ pour la cause !"
    assert len(await donations(server)) == 2
    log.assert_clean()


async def test_custom_amount_anonymous_and_errors(make_server: Any, new_page: Any) -> None:
    server = await make_server()
    page, log = await phone(new_page, server)
    await page.goto(server.url + "/donate/demo?lang=en")
    assert await page.text_content(".match-headline") == "TikTok doubles your gift!"
    await page.fill("#custom-amount", "abc")
    assert await page.is_checked("#amount-custom")
    assert await page.text_content("button.give") == "Send my gift"
    async with page.expect_navigation() as nav:
        await page.click("button.give")
    assert (await nav.value).status == 422
    assert "Choose or enter a valid amount" in await page.text_content("#amount-error")
    await fits_the_screen(page)
    await page.screenshot(path=screenshot_path("donate-error-mobile"), full_page=True)
    assert await donations(server) == []

    await page.fill("#custom-amount", "7,50")
    assert await page.text_content("button.give") == "Give €7.50"
    await page.fill("#donor-name", "Not shown")
    await page.check("#anonymous")
    assert await page.is_disabled("#donor-name")
    async with page.expect_navigation():
        await page.click("button.give")
    assert await page.text_content(".thanks-line") == \
        "Your pledge of €7.50 is recorded. It will count in the total once a moderator confirms it."
    [d] = await donations(server)
    assert (d["amount"], d["donor_name"], d["source"]) == ("7.50", None, "pledge")
    assert_clean_but(log, 422)


async def test_form_token_honeypot_and_rate_limit(make_server: Any, new_page: Any) -> None:
    server = await make_server(donate_page={"rate_limit_per_minute": 3})
    page, log = await phone(new_page, server)

    # 1: a forged token is refused; the form comes back with what was typed and a fresh token.
    await page.goto(server.url + "/donate/demo")
    await page.fill("#donor-name", "Sam")
    await page.eval_on_selector("input[name=form_token]", "el => el.value = '1.forged.AAAA'")
    async with page.expect_navigation() as nav:
        await page.click("button.give")
    assert (await nav.value).status == 403
    assert "Ce formulaire a expiré ou votre connexion a changé" in await page.text_content(".error.banner")
    assert await page.input_value("#donor-name") == "Sam"
    assert await donations(server) == []

    # 2: sent again from the page it came back on: accepted.
    async with page.expect_navigation():
        await page.click("button.give")
    assert await page.text_content("h1") == "Merci !"
    assert len(await donations(server)) == 1

    # 3: a bot fills the hidden field: it sees a thank-you page, nothing is stored.
    await page.goto(server.url + "/donate/demo")
    box = await page.locator("input[name=website]").bounding_box()
    assert box["x"] + box["width"] <= 0  # off screen for people, still in the form for bots
    assert await page.get_attribute("input[name=website]", "tabindex") == "-1"
    await page.eval_on_selector("input[name=website]", "el => el.value = 'http://spam.example'")
    async with page.expect_navigation():
        await page.click("button.give")
    assert await page.text_content(".thanks-line") == "Votre promesse de don est bien enregistrée."
    assert len(await donations(server)) == 1

    # 4: the fourth post within a minute from this address: 429, a readable page.
    await page.goto(server.url + "/donate/demo")
    async with page.expect_navigation() as nav:
        await page.click("button.give")
    response = await nav.value
    assert response.status == 429 and int(response.headers["retry-after"]) > 0
    assert await page.text_content("h1") == "Doucement !"
    await fits_the_screen(page)
    await page.screenshot(path=screenshot_path("donate-rate-limited-mobile"), full_page=True)
    assert len(await donations(server)) == 1
    assert_clean_but(log, 403, 429)


async def test_a_form_on_another_site_cannot_pledge(make_server: Any, new_page: Any, aiohttp_server: Any) -> None:
    """Another site embeds our form with a token it fetched: the browser names that site, we refuse."""
    from aiohttp import web

    from tests.pledging import form_token
    server = await make_server()
    stolen = await form_token(server)

    async def attacker_page(request: web.Request) -> web.Response:
        return web.Response(content_type="text/html", text=(
            f'<form method="post" action="{server.url}/donate/demo"><input name="form_token" value="{stolen}">'
            '<input name="amount" value="50.00"><button>Win a prize</button></form>'))

    async def no_icon(request: web.Request) -> web.Response:
        return web.Response(status=204)
    app = web.Application()
    app.router.add_get("/", attacker_page)
    app.router.add_get("/favicon.ico", no_icon)
    other = await aiohttp_server(app, host="127.0.0.1")
    page, log = await new_page(str(other.make_url("")))
    await page.goto(str(other.make_url("/")))
    async with page.expect_navigation() as nav:
        await page.click("button")
    assert (await nav.value).status == 403
    assert await page.text_content("h1") == "Formulaire refusé"
    assert await donations(server) == []
    log.outside_requests.clear()  # the post to our server is the point of this test
    assert_clean_but(log, 403)
