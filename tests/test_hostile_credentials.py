"""Every credential guess counts towards one per-client limit, wherever it is presented; the
client address is read right behind a trusted proxy, and an IPv6 client is one /64.

Each test sends more wrong guesses than the limit allows from one address, then the right
credential from the same address, which must be refused until the window passes (the guess
that succeeds would otherwise still be answered)."""
from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import aiohttp
import socketio

from overlay.app import create_app
from overlay.config import parse_config
from overlay.http.throttle import FAILURE_WINDOW_S, MAX_FAILURES
from tests.support import AUTH, MOD_TOKEN, OVERLAY_KEY, WAIT, channel_dict
from tests.webhook_signing import generic_headers, stripe_headers

STATE = "/api/v1/channels/demo/state"
GENERIC_SECRET = "generic-shared-secret-77"
STRIPE_SECRET = "whsec_hostile_5d2b7c1a9e"
FIXTURES = Path(__file__).parent / "fixtures" / "webhooks"


async def start(aiohttp_server: Any, tmp_path: Path, **server: Any) -> str:
    config = parse_config({
        "server": {"public_url": "http://127.0.0.1:8080", **server},
        "storage": {"data_dir": str(tmp_path / "data")},
        "channels": [channel_dict(webhooks={"generic": {"secret": GENERIC_SECRET},
                                            "stripe": {"secret": STRIPE_SECRET}})],
    }, env={})
    return str((await aiohttp_server(create_app(config), host="127.0.0.1")).make_url("")).rstrip("/")


async def sio_connect(url: str, namespace: str, auth: dict[str, Any], transport: str = "websocket") -> str:
    """'connected', or the message of the connect_error the server answered."""
    client, refused = socketio.AsyncClient(reconnection=False), []
    client.on("connect_error", lambda data=None: refused.append(data), namespace=namespace)
    try:
        await client.connect(url, namespaces=[namespace], auth=auth, transports=[transport], wait_timeout=WAIT)
    except socketio.exceptions.ConnectionError:
        return str(refused[0].get("message") if isinstance(refused[0], dict) else refused[0])
    finally:
        await client.disconnect()
    return "connected"


async def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str]]:
    async with aiohttp.ClientSession() as http, http.get(url, headers=headers or {}) as r:
        await r.read()
        return r.status, dict(r.headers)


def assert_throttled(status: int, headers: dict[str, str]) -> None:
    assert status == 429, status
    assert 1 <= int(headers["Retry-After"]) <= FAILURE_WINDOW_S


async def test_wrong_overlay_keys_on_the_overlay_namespace_are_throttled(aiohttp_server: Any, tmp_path: Path) -> None:
    url = await start(aiohttp_server, tmp_path)
    for i in range(MAX_FAILURES):
        # One guess on long-polling: the address is the one of the request that opened the session.
        transport = "polling" if i == 0 else "websocket"
        assert await sio_connect(url, "/overlay", {"channel": "demo", "key": f"guess-{i:04}"}, transport) == \
            "invalid overlay key"
    for key in (OVERLAY_KEY, "guess-9999"):
        assert (await sio_connect(url, "/overlay", {"channel": "demo", "key": key})).startswith("rate limited")
    # The same address is refused over HTTP too: one limit for every credential.
    assert_throttled(*await get(url + STATE, AUTH))


async def test_wrong_moderator_tokens_on_the_dashboard_namespace_are_throttled(aiohttp_server: Any,
                                                                               tmp_path: Path) -> None:
    url = await start(aiohttp_server, tmp_path)
    assert await sio_connect(url, "/dashboard", {"channel": "demo"}) == "invalid moderator token"  # no guess
    assert await sio_connect(url, "/dashboard", {"channel": "nope", "token": "x"}) == "unknown channel"
    for i in range(MAX_FAILURES):
        assert await sio_connect(url, "/dashboard", {"channel": "demo", "token": f"guess-{i:04}"}) == \
            "invalid moderator token"
    refusal = await sio_connect(url, "/dashboard", {"channel": "demo", "token": MOD_TOKEN})
    assert refusal.startswith("rate limited") and "retry in" in refusal


async def test_wrong_overlay_keys_in_page_urls_are_throttled(aiohttp_server: Any, tmp_path: Path) -> None:
    url = await start(aiohttp_server, tmp_path)
    pages = ["/overlay/demo/goal", "/overlay/demo/goal/settings", "/widgets/demo"]
    assert (await get(url + pages[0]))[0] == 403  # no key at all: not a guess
    for i in range(MAX_FAILURES):
        status, _ = await get(f"{url}{pages[i % 3]}?key=guess-{i:04}")
        assert status == 403
    for page in pages:
        assert_throttled(*await get(f"{url}{page}?key={OVERLAY_KEY}"))
    status, _ = await get(url + "/healthz")
    assert status == 200


async def test_bad_webhook_signatures_are_throttled_but_a_platforms_retries_are_not(aiohttp_server: Any,
                                                                                     tmp_path: Path) -> None:
    url = await start(aiohttp_server, tmp_path)
    donation = json.dumps({"external_id": "retry-1", "amount": "5.00"}).encode()
    checkout = (FIXTURES / "stripe_checkout_session_completed.json").read_bytes()
    async with aiohttp.ClientSession() as http:
        async def post(provider: str, raw: bytes, headers: dict[str, str]) -> tuple[int, Any]:
            async with http.post(f"{url}/webhooks/demo/{provider}", data=raw, headers=headers) as r:
                return r.status, (await r.json(), r.headers)

        # A platform re-sends what it already delivered (Stripe signs each attempt afresh): never counted.
        for attempt in range(MAX_FAILURES + 2):
            assert (await post("generic", donation, generic_headers(donation, GENERIC_SECRET)))[0] == 200
            signed = stripe_headers(checkout, STRIPE_SECRET, int(time.time()) - attempt)
            assert (await post("stripe", checkout, signed))[0] == 200
        # No signature, or a right one too old: refused, but no guess.
        assert (await post("generic", donation, {"Content-Type": "application/json"}))[0] == 401
        stale = stripe_headers(checkout, STRIPE_SECRET, int(time.time()) - 3600)
        assert (await post("stripe", checkout, stale))[1][0]["error"]["code"] == "stale_timestamp"
        for i in range(MAX_FAILURES):
            status, (answer, _) = await post("generic", donation, generic_headers(donation, f"guess-{i:04}"))
            assert (status, answer["error"]["code"]) == (401, "invalid_signature")
        status, (answer, headers) = await post("generic", donation, generic_headers(donation, GENERIC_SECRET))
        assert answer["error"]["code"] == "too_many_failures"
        assert_throttled(status, dict(headers))


async def test_x_forwarded_for_with_ports_and_rfc7239_forwarded_name_each_client(aiohttp_server: Any,
                                                                                  tmp_path: Path) -> None:
    url = await start(aiohttp_server, tmp_path, trusted_proxies=["127.0.0.1", "10.0.0.0/8"])
    wrong = {"Authorization": "Bearer wrong-token-0000"}
    troll = [{"X-Forwarded-For": "203.0.113.5:4711"}, {"X-Forwarded-For": "203.0.113.5:80, 10.1.2.3:443"},
             {"Forwarded": 'for=203.0.113.5;proto=https'}, {"Forwarded": 'for="203.0.113.5:1";by=10.0.0.1'},
             {"Forwarded": 'for=203.0.113.5, for="10.1.2.3:8443"'}]
    for i in range(MAX_FAILURES):
        assert (await get(url + STATE, {**wrong, **troll[i % len(troll)]}))[0] == 401
    assert_throttled(*await get(url + STATE, {**AUTH, "X-Forwarded-For": "203.0.113.5:9999"}))
    # Nobody else falls into the troll's count, nor into the proxy's.
    others = [{"X-Forwarded-For": "203.0.113.6:4711"}, {"X-Forwarded-For": "[2001:db8:1::5]:4711"},
              {"Forwarded": 'for="[2001:db8:cafe::17]:4711", for=10.1.2.3'}, {"Forwarded": "For=198.51.100.9"},
              {}]
    for headers in others:
        assert (await get(url + STATE, {**AUTH, **headers}))[0] == 200, headers
    # An obfuscated or unknown client names nobody: the walk stops at the proxy that wrote it.
    for i in range(MAX_FAILURES):
        assert (await get(url + STATE, {**wrong, "Forwarded": f"for=_hidden{i}, for=10.9.9.9"}))[0] == 401
    assert_throttled(*await get(url + STATE, {**AUTH, "X-Forwarded-For": "10.9.9.9"}))
    assert (await get(url + STATE, {**AUTH, "Forwarded": "for=unknown"}))[0] == 200  # the peer's own count


async def test_an_ipv6_client_is_counted_per_64(aiohttp_server: Any, tmp_path: Path) -> None:
    url = await start(aiohttp_server, tmp_path, trusted_proxies=["127.0.0.1"])
    wrong = {"Authorization": "Bearer wrong-token-0000"}
    for i in range(MAX_FAILURES):  # a fresh address of the same /64 for every guess
        assert (await get(url + STATE, {**wrong, "X-Forwarded-For": f"2001:db8:1:2::{i + 1:x}"}))[0] == 401
    assert_throttled(*await get(url + STATE, {**AUTH, "X-Forwarded-For": "[2001:db8:1:2:ffff::9]:443"}))
    assert (await get(url + STATE, {**AUTH, "X-Forwarded-For": "2001:db8:1:3::1"}))[0] == 200


async def test_a_throttled_address_is_refused_on_every_credential_at_once(aiohttp_server: Any,
                                                                          tmp_path: Path) -> None:
    """Guesses spread over every door add up: HTTP, both namespaces, the login form, webhooks."""
    url = await start(aiohttp_server, tmp_path)
    guesses = [
        sio_connect(url, "/overlay", {"channel": "demo", "key": "guess-a"}),
        sio_connect(url, "/dashboard", {"channel": "demo", "token": "guess-b"}),
        get(url + "/overlay/demo/goal?key=guess-c"),
        get(url + STATE, {"Authorization": "Bearer guess-d"}),
    ]
    await asyncio.gather(*guesses)
    async with aiohttp.ClientSession() as http:
        for i in range(MAX_FAILURES - len(guesses)):
            async with http.post(url + "/dashboard/demo/login", data={"token": f"guess-{i}"},
                                 headers={"Origin": url}, allow_redirects=False) as r:
                assert r.status == 401
        async with http.post(url + "/dashboard/demo/login", data={"token": MOD_TOKEN},
                             headers={"Origin": url}, allow_redirects=False) as r:
            assert r.status == 429 and "Retry-After" in r.headers
    assert (await sio_connect(url, "/overlay", {"channel": "demo", "key": OVERLAY_KEY})).startswith("rate limited")
    assert (await sio_connect(url, "/dashboard", {"channel": "demo", "token": MOD_TOKEN})).startswith("rate limited")
    assert_throttled(*await get(f"{url}/widgets/demo?key={OVERLAY_KEY}"))
