"""The dashboard's login, session, CSRF and language rules, over plain HTTP against a real server."""
from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import aiohttp

from overlay.app import create_app
from overlay.web.auth import csrf_token, new_session
from overlay.http.throttle import MAX_FAILURES
from tests.support import MOD_TOKEN, OVERLAY_KEY, make_config

LOGIN = "/dashboard/demo/login"
PAUSE = "/api/v1/channels/demo/alerts/pause"


async def login(server: Any, token: str = MOD_TOKEN, headers: dict[str, str] | None = None,
                path: str = LOGIN) -> tuple[int, Any, str]:
    headers = {"Origin": server.url} if headers is None else headers
    async with server.http.post(server.url + path, data={"token": token}, headers=headers,
                                allow_redirects=False) as r:
        return r.status, r.headers, await r.text()


def session_of(headers: Any) -> str:
    return re.match(r"overlay_session_demo=([^;]+);", headers["Set-Cookie"]).group(1)


async def get_page(server: Any, cookie: str | None = None, path: str = "/dashboard/demo",
                   **headers: str) -> tuple[int, Any, str]:
    if cookie:
        headers["Cookie"] = f"overlay_session_demo={cookie}"
    async with server.http.get(server.url + path, headers=headers) as r:
        return r.status, r.headers, await r.text()


async def test_login_sets_a_strict_httponly_session_and_the_page_never_holds_the_token(make_server: Any) -> None:
    server = await make_server()
    status, headers, body = await login(server)
    assert status == 303 and headers["Location"] == "/dashboard/demo"
    set_cookie = headers["Set-Cookie"]
    for part in ("HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=43200"):
        assert part in set_cookie, part
    assert "Secure" not in set_cookie and MOD_TOKEN not in set_cookie + body
    cookie = session_of(headers)
    status, page_headers, html = await get_page(server, cookie)
    assert status == 200 and f'<meta name="csrf-token" content="{csrf_token(cookie)}">' in html
    assert MOD_TOKEN not in html and OVERLAY_KEY in html  # the read-only key for the overlay links, yes
    assert "script-src 'self'" in page_headers["Content-Security-Policy"]
    assert page_headers["X-Frame-Options"] == "DENY" and page_headers["Cache-Control"] == "no-store"
    assert '<section id="live-status" hidden></section>' in html


async def test_without_a_valid_session_only_the_login_form(make_server: Any) -> None:
    server = await make_server()
    cfg = server.config.channels[0]
    expired = new_session(cfg, MOD_TOKEN, now=time.time() - 13 * 3600)
    forged = new_session(cfg, MOD_TOKEN)[:-4] + "AAAA"
    other_token = new_session(cfg.model_copy(update={"moderator_tokens": ["some-other-token"]}), "some-other-token")
    for cookie in (None, expired, forged, other_token, "garbage"):
        status, _, html = await get_page(server, cookie)
        assert status == 200 and 'name="token" type="password"' in html
        assert "csrf-token" not in html and OVERLAY_KEY not in html and "Les Restos" not in html
    assert (await get_page(server, path="/dashboard/nope"))[0] == 404
    assert (await login(server, path="/dashboard/nope/login"))[0] == 404


async def test_wrong_tokens_are_refused_then_rate_limited(make_server: Any) -> None:
    server = await make_server()
    for _ in range(MAX_FAILURES):
        status, headers, body = await login(server, "wrong-token-123")
        assert status == 401 and "Set-Cookie" not in headers
        assert "That token is not valid" in body and "wrong-token-123" not in body
    status, headers, body = await login(server)  # even the right token, until the window passes
    assert status == 429 and "Set-Cookie" not in headers and "Too many failed attempts" in body


async def test_login_and_logout_accept_only_same_origin_posts(make_server: Any) -> None:
    server = await make_server()
    assert (await login(server, headers={}))[0] == 403
    assert (await login(server, headers={"Origin": "http://evil.example"}))[0] == 403
    assert (await login(server, headers={"Origin": "null", "Referer": "http://evil.example/x"}))[0] == 403
    status, headers, _ = await login(server, headers={"Origin": "null", "Referer": server.url + "/dashboard/demo"})
    assert status == 303
    cookie = session_of(headers)

    async def logout(data: dict[str, str], origin: str) -> Any:
        async with server.http.post(server.url + "/dashboard/demo/logout", data=data, allow_redirects=False,
                                    headers={"Origin": origin, "Cookie": f"overlay_session_demo={cookie}"}) as r:
            return r.status, r.headers

    assert (await logout({}, server.url))[0] == 403
    assert (await logout({"csrf": csrf_token(cookie)}, "http://evil.example"))[0] == 403
    status, headers = await logout({"csrf": csrf_token(cookie)}, server.url)
    assert status == 303 and re.search(r"overlay_session_demo=\"?\"?; .*Max-Age=0", headers["Set-Cookie"])


async def test_writes_with_the_session_cookie_need_the_csrf_header(make_server: Any) -> None:
    server = await make_server()
    cookie = session_of((await login(server))[1])
    jar = {"Cookie": f"overlay_session_demo={cookie}"}
    status, body = await server.post(PAUSE, headers=jar)
    assert (status, body["error"]["code"]) == (403, "csrf_failed")
    status, body = await server.post(PAUSE, headers={**jar, "X-CSRF-Token": csrf_token(cookie)})
    assert (status, body) == (200, {"ok": True, "action": "pause"})
    status, state = await server.request("GET", "/api/v1/channels/demo/state", headers=jar)
    assert status == 200 and state["alerts"]["paused"] is True and "donations" in state


async def test_language_from_the_browser_or_the_lang_setting(make_server: Any) -> None:
    server = await make_server()
    cases = [({"Accept-Language": "fr-CA,fr;q=0.9,en;q=0.8"}, "", "fr"),
             ({"Accept-Language": "de-DE, en;q=0.5, fr;q=0.4"}, "", "en"),
             ({"Accept-Language": "en;q=0.3, fr;q=0.8"}, "", "fr"),
             ({"Accept-Language": "fr"}, "?lang=en", "en"),
             ({}, "?lang=fr", "fr"), ({}, "?lang=xx", "en")]
    for headers, query, lang in cases:
        _, _, html = await get_page(server, path="/dashboard/demo" + query, **headers)
        assert f'<html lang="{lang}">' in html, (headers, query)
        assert ("Connexion modérateur" if lang == "fr" else "Moderator login") in html
    status, headers, _ = await login(server, path=LOGIN + "?lang=fr")
    assert status == 303 and headers["Location"] == "/dashboard/demo?lang=fr"


async def test_an_https_public_url_makes_the_cookie_secure(aiohttp_server: Any, tmp_path: Path) -> None:
    config = make_config(tmp_path / "data")
    config = config.model_copy(update={"server": config.server.model_copy(
        update={"public_url": "https://overlay.example"})})
    server = await aiohttp_server(create_app(config), host="127.0.0.1")
    url = str(server.make_url("")).rstrip("/")
    async with aiohttp.ClientSession() as http:
        async with http.post(url + LOGIN, data={"token": MOD_TOKEN}, allow_redirects=False,
                             headers={"Origin": "https://overlay.example"}) as r:
            assert r.status == 303 and "Secure" in r.headers["Set-Cookie"]
