"""Wrong credentials are throttled per client address, and only failures count; behind a
trusted reverse proxy the address is the one it forwards, and nobody else's X-Forwarded-For."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from overlay.app import create_app
from overlay.config import ConfigError, parse_config
from overlay.http.throttle import MAX_FAILURES
from tests.support import AUTH, MOD_TOKEN, OVERLAY_KEY, channel_dict

STATE = "/api/v1/channels/demo/state"
WRONG = {"Authorization": "Bearer wrong-token-0000"}
STREAM_KEY = "stream-key-for-tests"


async def start(aiohttp_server: Any, tmp_path: Path, channel: dict[str, Any] | None = None,
                **server: Any) -> tuple[str, aiohttp.ClientSession]:
    config = parse_config({
        "server": {"public_url": "http://127.0.0.1:8080", **server},
        "storage": {"data_dir": str(tmp_path / "data")},
        "channels": [channel_dict(live={"stream_key": STREAM_KEY}, **(channel or {}))],
    }, env={})
    app = await aiohttp_server(create_app(config), host="127.0.0.1")
    return str(app.make_url("")).rstrip("/"), aiohttp.ClientSession()


async def status_of(http: aiohttp.ClientSession, method: str, url: str, headers: dict[str, str]) -> tuple[int, Any]:
    async with http.request(method, url, headers=headers) as r:
        body = await r.json() if r.content_type == "application/json" else await r.text()
        return r.status, (body, r.headers)


async def test_wrong_bearer_tokens_are_throttled_then_even_the_right_one(aiohttp_server: Any, tmp_path: Path) -> None:
    url, http = await start(aiohttp_server, tmp_path)
    async with http:
        assert (await status_of(http, "GET", url + STATE, {}))[0] == 401  # no credential: not a guess
        for _ in range(MAX_FAILURES):
            assert (await status_of(http, "GET", url + STATE, WRONG))[0] == 401
        for headers in (WRONG, AUTH):
            status, (body, resp_headers) = await status_of(http, "GET", url + STATE, headers)
            assert status == 429 and body["error"]["code"] == "too_many_failures"
            assert 1 <= int(resp_headers["Retry-After"]) <= 300
        # The public pages and reads without a credential still work from that address.
        assert (await status_of(http, "GET", url + "/healthz", {}))[0] == 200


async def test_wrong_stream_keys_on_whip_are_throttled(aiohttp_server: Any, tmp_path: Path) -> None:
    url, http = await start(aiohttp_server, tmp_path)
    async with http:
        for _ in range(MAX_FAILURES):
            status, (body, _) = await status_of(http, "POST", url + "/whip/demo", WRONG)
            assert status == 401 and body["error"]["code"] == "unauthorized"
        status, (body, headers) = await status_of(http, "POST", url + "/whip/demo",
                                                  {"Authorization": f"Bearer {STREAM_KEY}"})
        assert status == 429 and body["error"]["code"] == "too_many_failures" and "Retry-After" in headers


async def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_count(aiohttp_server: Any,
                                                                              tmp_path: Path) -> None:
    url, http = await start(aiohttp_server, tmp_path, trusted_proxies=["10.0.0.0/8", "127.0.0.1"])
    troll = {"X-Forwarded-For": "203.0.113.5"}
    async with http:
        for _ in range(MAX_FAILURES):
            assert (await status_of(http, "GET", url + STATE, {**WRONG, **troll}))[0] == 401
        assert (await status_of(http, "GET", url + STATE, {**AUTH, **troll}))[0] == 429
        # Whatever the troll writes on the left, the trusted proxies vouch only for the right-most hops.
        spoofed = {"X-Forwarded-For": "198.51.100.1, 203.0.113.5, 10.1.2.3"}
        assert (await status_of(http, "GET", url + STATE, {**AUTH, **spoofed}))[0] == 429
        moderator = {"X-Forwarded-For": "203.0.113.6, 10.1.2.3"}
        assert (await status_of(http, "GET", url + STATE, {**AUTH, **moderator}))[0] == 200
        assert (await status_of(http, "GET", url + STATE, {**WRONG, **moderator}))[0] == 401
        async with http.post(url + "/dashboard/demo/login", data={"token": MOD_TOKEN}, allow_redirects=False,
                             headers={"Origin": url, "X-Forwarded-For": "203.0.113.7"}) as r:
            assert r.status == 303
        async with http.post(url + "/dashboard/demo/login", data={"token": MOD_TOKEN}, allow_redirects=False,
                             headers={"Origin": url, **troll}) as r:
            assert r.status == 429 and "Retry-After" in r.headers and "Set-Cookie" not in r.headers


async def test_x_forwarded_for_from_an_untrusted_peer_is_ignored(aiohttp_server: Any, tmp_path: Path) -> None:
    url, http = await start(aiohttp_server, tmp_path, trusted_proxies=["10.0.0.0/8"])
    async with http:
        for i in range(MAX_FAILURES):
            headers = {**WRONG, "X-Forwarded-For": f"203.0.113.{i + 1}"}
            assert (await status_of(http, "GET", url + STATE, headers))[0] == 401
        fresh = {**AUTH, "X-Forwarded-For": "198.51.100.200"}
        assert (await status_of(http, "GET", url + STATE, fresh))[0] == 429


async def test_wrong_overlay_keys_in_the_url_count_too(aiohttp_server: Any, tmp_path: Path) -> None:
    url, http = await start(aiohttp_server, tmp_path)
    async with http:
        for _ in range(MAX_FAILURES):
            assert (await status_of(http, "GET", url + STATE + "?key=guess-guess-guess", {}))[0] == 401
        assert (await status_of(http, "GET", url + STATE + f"?key={OVERLAY_KEY}", {}))[0] == 429


@pytest.mark.parametrize("value", ["nope", "10.0.0.0/33", "::1/129", ""])
def test_trusted_proxies_must_be_addresses_or_cidr_blocks(value: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config({"server": {"trusted_proxies": [value]}, "channels": [channel_dict()]}, env={})
    assert info.value.problems[0].startswith("server.trusted_proxies[0]: not an IP address or CIDR block")


async def test_the_donate_page_limit_is_per_forwarded_client_too(aiohttp_server: Any, tmp_path: Path) -> None:
    url, http = await start(aiohttp_server, tmp_path, {"donate_page": {"rate_limit_per_minute": 1}},
                            trusted_proxies=["127.0.0.1"])

    async def pledge(client: str) -> int:
        forwarded = {"X-Forwarded-For": client}
        async with http.get(url + "/donate/demo", headers=forwarded) as r:
            token = re.search(r'name="form_token" value="([^"]+)"', await r.text()).group(1)
        async with http.post(url + "/donate/demo", data={"form_token": token, "amount": "5.00"},
                             headers=forwarded, allow_redirects=False) as r:
            return r.status

    async with http:
        assert await pledge("203.0.113.5") == 303
        assert await pledge("203.0.113.5") == 429
        assert await pledge("203.0.113.6") == 303
