"""Who gets in: wrong or missing tokens, cross-site requests, the /dashboard namespace."""
from __future__ import annotations

from typing import Any

import pytest
import socketio
from aiohttp import web
from playwright.async_api import expect

from tests.browser.conftest import screenshot_path
from tests.browser.dashboard_support import dashboard_connect_error, log_in, open_login
from tests.support import MOD_TOKEN, OVERLAY_KEY, Listener

PAUSE = "/api/v1/channels/demo/alerts/pause"


async def assert_no_dashboard(page: Any) -> None:
    html = await page.content()
    for leak in ("Les Restos du Cœur", "csrf-token", "dashboard-data", OVERLAY_KEY, MOD_TOKEN):
        assert leak not in html, leak
    assert await page.get_by_role("button", name="Skip").count() == 0


async def test_wrong_or_missing_token_shows_no_dashboard_and_the_namespace_refuses(
        make_server: Any, new_page: Any) -> None:
    server = await make_server()
    page, _ = await new_page(server.url)
    response = await open_login(page, server.url)
    assert response.status == 200
    await assert_no_dashboard(page)
    assert await dashboard_connect_error(page, {"channel": "demo"}) == "invalid moderator token"
    assert await dashboard_connect_error(page, {"channel": "demo", "token": "not-the-token"}) == \
        "invalid moderator token"

    await page.get_by_label("Moderator token").fill("not-the-token")
    async with page.expect_response(lambda r: r.url.endswith("/login")) as sent:
        await page.get_by_role("button", name="Log in").click()
    assert (await sent.value).status == 401
    await expect(page.get_by_role("alert")).to_have_text("That token is not valid for this channel.")
    await assert_no_dashboard(page)
    assert await page.context.cookies() == []
    await page.screenshot(path=screenshot_path("dashboard-login-refused"))

    for auth in ({"channel": "demo"}, {"channel": "demo", "token": "not-the-token"}, {"channel": "demo", "key": OVERLAY_KEY}):
        with pytest.raises(socketio.exceptions.ConnectionError):
            await Listener().connect(server.url, "/dashboard", **auth)


async def test_the_namespace_accepts_the_session_cookie_and_logout_ends_it(make_server: Any, new_page: Any) -> None:
    server = await make_server()
    page, log = await new_page(server.url)
    await log_in(page, server.url)
    assert await dashboard_connect_error(page, {"channel": "demo"}) == "connected"
    await page.get_by_role("button", name="Log out").click()
    await expect(page.get_by_label("Moderator token")).to_be_visible()
    assert await page.context.cookies() == []
    assert await dashboard_connect_error(page, {"channel": "demo"}) == "invalid moderator token"
    log.assert_clean()


def attacker_app(target: str, token: str) -> web.Application:
    """A page on another origin that posts forms to the dashboard's server, as a hostile site would."""
    def form(action: str, fields: str) -> str:
        return (f'<form id="f" method="post" action="{target}{action}">{fields}</form>'
                '<script>document.getElementById("f").submit()</script>')

    async def pause(request: web.Request) -> web.Response:
        return web.Response(text=form(PAUSE, '<input name="x" value="1">'), content_type="text/html")

    async def login(request: web.Request) -> web.Response:
        return web.Response(text=form("/dashboard/demo/login", f'<input name="token" value="{token}">'),
                            content_type="text/html")

    app = web.Application()
    app.router.add_get("/pause", pause)
    app.router.add_get("/login", login)
    return app


@pytest.mark.parametrize("attacker_host", ["localhost", "127.0.0.1"], ids=["cross-site", "same-site-other-port"])
async def test_a_post_from_another_site_is_refused(make_server: Any, new_page: Any, aiohttp_server: Any,
                                                  attacker_host: str) -> None:
    server = await make_server()
    page, _ = await new_page(server.url)
    await log_in(page, server.url)
    evil = await aiohttp_server(attacker_app(server.url, MOD_TOKEN), host="127.0.0.1")
    evil_url = f"http://{attacker_host}:{evil.port}"

    async with page.expect_response(lambda r: r.url.endswith(PAUSE)) as sent:
        await page.goto(evil_url + "/pause")
    refused = await sent.value
    # Cross-site, the SameSite=Strict cookie is not sent (401); from the same site on another
    # port it is, but a form cannot send the X-CSRF-Token header (403).
    assert refused.status == (401 if attacker_host == "localhost" else 403)
    _, state = await server.request("GET", "/api/v1/channels/demo/state")
    assert state["alerts"]["paused"] is False

    async with page.expect_response(lambda r: r.url.endswith("/dashboard/demo/login")) as sent:
        await page.goto(evil_url + "/login")
    assert (await sent.value).status == 403  # a login from another origin, even with the right token
