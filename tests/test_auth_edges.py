"""Credentials as an attacker sends them (raw bytes in headers), and the HTTP hardening around
them: no token in URLs, a guarded /metrics, pages with forms never framed, a cached QR code."""
from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest

from overlay.app import create_app
from overlay.web.auth import secret_equal
from overlay.config import parse_config
from tests.support import AUTH, MOD_TOKEN, OVERLAY_KEY, channel_dict

STATE = "/api/v1/channels/demo/state"
PAUSE = "/api/v1/channels/demo/alerts/pause"
METRICS_TOKEN = "metrics-token-0123456789"


async def raw_request(url: str, method: str, path: str, headers: list[bytes]) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 request written byte for byte, as a client that ignores the rules would."""
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    head = [f"{method} {path} HTTP/1.1".encode(), f"Host: {parts.netloc}".encode(), b"Connection: close",
            b"Content-Length: 0", *headers]
    writer.write(b"\r\n".join(head) + b"\r\n\r\n")
    data = await asyncio.wait_for(reader.read(), 30)
    writer.close()
    status_line, _, rest = data.partition(b"\r\n")
    head_block, _, body = rest.partition(b"\r\n\r\n")
    fields = dict(line.decode("latin-1").split(": ", 1) for line in head_block.split(b"\r\n") if b": " in line)
    return int(status_line.split()[1]), {k.lower(): v for k, v in fields.items()}, body


async def start(aiohttp_server: Any, tmp_path: Path, **server: Any) -> str:
    config = parse_config({
        "server": {"public_url": "http://127.0.0.1:8080", **server},
        "storage": {"data_dir": str(tmp_path / "data")},
        "channels": [channel_dict(live={"stream_key": "stream-key-for-tests"})],
    }, env={})
    return str((await aiohttp_server(create_app(config), host="127.0.0.1")).make_url("")).rstrip("/")


BAD_AUTHORIZATION = [b"Authorization: Bearer \xff\xfe", b"Authorization: Bearer caf\xc3\xa9", b"Authorization: \xc0",
                     b"Authorization: Bearer test-moderator-token\x80"]


@pytest.mark.parametrize("header", BAD_AUTHORIZATION)
async def test_undecodable_authorization_is_a_json_401(aiohttp_server: Any, tmp_path: Path, header: bytes) -> None:
    url = await start(aiohttp_server, tmp_path, metrics_token=METRICS_TOKEN)
    for method, path in (("GET", STATE), ("POST", PAUSE), ("POST", "/whip/demo"), ("GET", "/metrics")):
        status, headers, body = await raw_request(url, method, path, [header])
        assert status == 401 and headers["content-type"].startswith("application/json"), (path, status, body)
        assert json.loads(body)["error"]["code"] == "unauthorized"


ODD_COOKIES = [b"overlay_session_demo=\xc3\xa9t\xc3\xa9", b"overlay_session_demo=\xff\xfe",
               b'overlay_session_demo="a.b.c.d.e"', b"overlay_session_demo=demo.99999999999.\xe2\x82\xac.x.y",
               b"overlay_session_demo=demo.99999999999.\xff.x.y",
               b"overlay_session_demo=" + b"A" * 5000, b"overlay_session_nope=x; overlay_session_demo"]


@pytest.mark.parametrize("cookie", ODD_COOKIES)
async def test_an_odd_session_cookie_is_no_session(make_server: Any, backend: str, cookie: bytes) -> None:
    server = await make_server(backend)
    status, headers, body = await raw_request(server.url, "GET", "/dashboard/demo", [b"Cookie: " + cookie])
    assert status == 200 and b'name="token" type="password"' in body
    for method, path in (("GET", STATE), ("POST", PAUSE)):
        status, headers, body = await raw_request(server.url, method, path, [b"Cookie: " + cookie])
        assert status == 401 and json.loads(body)["error"]["code"] == "unauthorized", (path, body)
    assert (await server.request("GET", STATE))[0] == 200  # the server is still fine


async def test_an_origin_that_is_not_a_url_is_a_foreign_one(server: Any) -> None:
    async with server.http.post(server.url + "/dashboard/demo/login", data={"token": MOD_TOKEN},
                                headers={"Origin": "http://[::1"}, allow_redirects=False) as r:
        assert r.status == 403 and "Set-Cookie" not in r.headers


def test_secret_equal_takes_any_string() -> None:
    assert secret_equal("caf\u00e9-token", "caf\u00e9-token")
    for given in ("\ud800", "test\udcff", "caf\u00e9", None, 12, b"abc"):
        assert not secret_equal(given, "test-moderator-token")


async def test_the_moderator_token_is_not_a_url_key(server: Any) -> None:
    status, body = await server.request("GET", f"{STATE}?key={MOD_TOKEN}", headers={})
    assert status == 401 and body["error"]["code"] == "unauthorized"
    status, body = await server.request("GET", f"/api/v1/channels/demo/donations?key={MOD_TOKEN}", headers={})
    assert status == 401
    status, public = await server.request("GET", f"{STATE}?key={OVERLAY_KEY}", headers={})
    assert status == 200 and "donations" not in public
    status, private = await server.request("GET", STATE, headers=AUTH)
    assert status == 200 and "donations" in private


async def test_metrics_need_the_metrics_token_when_one_is_set(aiohttp_server: Any, tmp_path: Path) -> None:
    url = await start(aiohttp_server, tmp_path, metrics_token=METRICS_TOKEN)
    async with aiohttp.ClientSession() as http:
        for headers in ({}, AUTH, {"Authorization": "Bearer metrics-token-wrong-0000"}):
            async with http.get(url + "/metrics", headers=headers) as r:
                assert r.status == 401 and (await r.json())["error"]["code"] == "unauthorized"
                assert r.headers["WWW-Authenticate"] == 'Bearer realm="metrics"'
        async with http.get(url + "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}) as r:
            assert r.status == 200 and "overlay_webhooks_total" in await r.text()


async def test_metrics_stay_open_without_a_metrics_token(server: Any) -> None:
    status, text = await server.request("GET", "/metrics", headers={})
    assert status == 200 and "overlay_webhooks_total" in text


async def test_pages_with_forms_may_not_be_framed_overlays_may(server: Any) -> None:
    for path in ("/donate/demo", "/dashboard/demo", "/donate/nope"):
        async with server.http.get(server.url + path) as r:
            assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"], path
            assert r.headers["X-Frame-Options"] == "DENY"
    # The gallery and the dashboard's preview frame the overlays; the live page stays as it was.
    for path in (f"/overlay/demo/goal?key={OVERLAY_KEY}", f"/widgets/demo?key={OVERLAY_KEY}"):
        async with server.http.get(server.url + path) as r:
            assert r.status == 200 and "frame-ancestors" not in r.headers["Content-Security-Policy"], path


async def test_the_qr_code_is_drawn_once_and_revalidated_by_etag(server: Any) -> None:
    async with server.http.get(server.url + "/qr/demo.svg") as r:
        assert r.status == 200 and r.content_type == "image/svg+xml"
        etag, svg = r.headers["ETag"], await r.text()
    assert etag.startswith('"') and etag.endswith('"') and "<svg" in svg
    async with server.http.get(server.url + "/qr/demo.svg", headers={"If-None-Match": etag}) as r:
        assert r.status == 304 and r.headers["ETag"] == etag and await r.read() == b""
    async with server.http.get(server.url + "/qr/demo.svg", headers={"If-None-Match": '"other", ' + etag}) as r:
        assert r.status == 304
    async with server.http.get(server.url + "/qr/demo.svg", headers={"If-None-Match": '"stale"'}) as r:
        assert r.status == 200 and r.headers["ETag"] == etag and await r.text() == svg
