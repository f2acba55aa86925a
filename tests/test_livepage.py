"""GET /live/{ch} and /live/{ch}/status over HTTP against the real server."""
from __future__ import annotations

import html as html_lib
import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.live.peers import publish, watch
from overlay.config import ConfigError
from tests.support import MOD_TOKEN, OVERLAY_KEY, make_config, until

LIVE = {"live": {"stream_key": "sk-test-123"}}


def json_block(html: str, block_id: str) -> dict[str, Any]:
    found = re.search(rf'<script type="application/json" id="{block_id}">(.*?)</script>', html, re.S)
    assert found is not None, block_id
    return json.loads(found.group(1))


async def test_live_page_is_served_with_a_strict_csp_and_no_secret(make_server: Any) -> None:
    server = await make_server(**LIVE)
    async with server.http.get(f"{server.url}/live/demo") as r:
        assert r.status == 200
        policy = r.headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy
        assert r.headers["Cache-Control"] == "no-store"
        html = await r.text()
    assert "<script>" not in html  # no inline script: only the JSON blocks and module files
    assert '<html lang="fr">' in html and "Le direct est hors ligne" in html
    live = json_block(html, "live-config")
    assert (live["channel"], live["live"], live["viewers"], live["lang"]) == ("demo", False, 0, "fr")
    widgets = json_block(html, "overlay-config")
    assert set(widgets["widgets"]) == {"goal", "alert", "sticker"}
    assert widgets["widgets"]["alert"]["sound"] is False  # the page starts muted; the stream carries sound
    # The overlay key is there (read-only, as in any browser source); nothing that writes is.
    assert widgets["key"] == OVERLAY_KEY
    assert "sk-test-123" not in html and MOD_TOKEN not in html
    link = re.search(r'<a id="live-donate"[^>]*>', html).group(0)
    assert 'href="http://127.0.0.1:8080/donate/demo"' in link and 'aria-label="Faire un don"' in link


@pytest.mark.parametrize("channel, target", [
    ({}, "http://127.0.0.1:8080/donate/demo"),
    ({"donate_page": {"mode": "off"}, "campaign": {"title": "X", "donate_url": "https://give.example.org/x?a=1&b=2"}},
     "https://give.example.org/x?a=1&b=2"),
])
async def test_sticker_links_to_the_donate_target(make_server: Any, channel: dict[str, Any], target: str) -> None:
    server = await make_server(**LIVE, **channel)
    _, html = await server.request("GET", "/live/demo")
    href = re.search(r'<a id="live-donate"[^>]*href="([^"]+)"', html).group(1)
    assert html_lib.unescape(href) == target


async def test_live_page_language_follows_the_query_then_the_channel(make_server: Any) -> None:
    server = await make_server(**LIVE, locale="en_GB")
    _, html = await server.request("GET", "/live/demo")
    assert '<html lang="en">' in html and "The stream is offline" in html
    _, html = await server.request("GET", "/live/demo?lang=fr")
    assert '<html lang="fr">' in html and json_block(html, "overlay-config")["strings"]["cta"] == "Faire un don"
    _, html = await server.request("GET", "/live/demo?lang=xx")
    assert '<html lang="en">' in html


@pytest.mark.parametrize("path, words", [("/live/nope", "No live stream here"), ("/live/demo", "Pas de direct ici")])
async def test_unknown_channel_or_no_live_config_is_a_readable_404(make_server: Any, path: str, words: str) -> None:
    server = await make_server()  # demo has no live: section
    async with server.http.get(server.url + path) as r:
        assert r.status == 404 and r.content_type == "text/html"
        assert "Content-Security-Policy" in r.headers
        assert words in await r.text()
    async with server.http.get(server.url + path + "/status") as r:
        assert r.status == 404
        assert (await r.json())["error"]["code"] == "unknown_channel"


async def test_status_says_live_and_viewers_and_nothing_else(make_server: Any) -> None:
    server = await make_server(**LIVE)

    async def status() -> Any:
        async with server.http.get(f"{server.url}/live/demo/status") as r:
            assert r.status == 200 and r.headers["Cache-Control"] == "no-store"
            return await r.json()

    assert await status() == {"live": False, "viewers": 0}
    publisher = await publish(server.http, server.url, "demo", "sk-test-123")
    viewer = None
    try:
        await until(lambda: status(), lambda s: s["live"])
        viewer = await watch(server.http, server.url, "demo")
        # Only what the page shows: bitrate and start time are for the dashboard.
        assert await until(lambda: status(), lambda s: s["viewers"] == 1) == {"live": True, "viewers": 1}
        # Counted in the live process, shown on the web process's /metrics.
        _, metrics = await server.request("GET", "/metrics")
        assert 'overlay_live_viewers{channel="demo"} 1.0' in metrics
    finally:
        if viewer is not None:
            await viewer.close()
        await publisher.pc.close()




async def test_dashboard_carries_the_live_status_but_not_the_stream_key(make_server: Any) -> None:
    from tests.test_dashboard_http import get_page, login, session_of
    server = await make_server(**LIVE)
    _, headers, _ = await login(server)
    status, _, html = await get_page(server, session_of(headers))
    assert status == 200 and '<section id="live-status" aria-labelledby="live-h" class="panel">' in html
    live = json_block(html, "dashboard-data")["live"]
    assert live == {"status": {"live": False, "viewers": 0, "bitrate_kbps": None, "since": None}, "error": None,
                    "whip": "http://127.0.0.1:8080/whip/demo", "external": None,
                    "page": "http://127.0.0.1:8080/live/demo"}
    assert "sk-test-123" not in html


async def test_an_external_whep_url_is_what_the_page_plays_and_its_csp_allows(make_server: Any) -> None:
    whep = "https://media.example.org:8889/demo/whep"
    server = await make_server(live={"whep_url": whep})
    async with server.http.get(f"{server.url}/live/demo") as r:
        assert r.status == 200
        policy = r.headers["Content-Security-Policy"]
        html = await r.text()
    connect = next(part for part in policy.split(";") if part.strip().startswith("connect-src")).split()
    assert connect == ["connect-src", "'self'", "https://media.example.org:8889"]
    live = json_block(html, "live-config")
    assert live["whep_url"] == whep and live["live"] is True  # the page asks the external server at once
    async with server.http.get(f"{server.url}/live/demo/status") as r:
        assert await r.json() == {"live": None, "viewers": None}  # only that server knows
    async with server.http.post(f"{server.url}/whep/demo", data="v=0\r\n",
                                headers={"Content-Type": "application/sdp"}) as r:
        assert r.status == 404 and (await r.json())["error"]["code"] == "unknown_channel"


@pytest.mark.parametrize("live, problem", [
    ({"max_viewers": 3}, "give stream_key"),
    ({"whep_url": "ftp://media.example.org/whep"}, "must be an http"),
])
async def test_a_live_section_needs_a_source(live: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        make_config(Path("/nonexistent"), live=live)
    assert any(line.startswith("channels[0].live") and problem in line for line in caught.value.problems), \
        caught.value.problems
