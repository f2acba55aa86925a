"""Integration health, "Send test event" and the Twitch subscription command, end to end.

The real server on both backends; the platforms' deliveries signed as they sign them
(tests/webhook_signing.py), and fakes of the platforms' own servers only.
"""
from __future__ import annotations

import asyncio
import json
import sys
import uuid
from datetime import datetime, timezone
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from overlay.app import create_app
from overlay.web.integrations import _health
from tests.conftest import Running
from tests.support import ROOT, channel_dict, make_config, until
from tests.test_dashboard_http import get_page, login, session_of
from tests.webhook_signing import generic_headers, twitch_headers
from tests.test_webhooks_e2e import GENERIC_SECRET, WEBHOOKS, PersistentRedis, own_redis  # noqa: F401

TWITCH = {"secret": "eventsub-s3cret-0f3c9a"}
ALL = {**WEBHOOKS, "twitch": TWITCH}
INTEGRATIONS = "/api/v1/channels/demo/integrations"


def by_provider(answer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {i["provider"]: i for i in answer["integrations"]}


async def health(server: Any) -> dict[str, dict[str, Any]]:
    status, answer = await server.request("GET", INTEGRATIONS)
    assert status == 200, answer
    return {p: i["health"] for p, i in by_provider(answer).items()}


async def send_generic(server: Any, payload: dict[str, Any], secret: str = GENERIC_SECRET) -> tuple[int, Any]:
    raw = json.dumps(payload).encode()
    return await server.post("/webhooks/demo/generic", data=raw, headers=generic_headers(raw, secret))


async def test_deliveries_are_counted_by_outcome_in_the_store_and_in_metrics(make_server: Any, backend: str) -> None:
    server = await make_server(backend, webhooks=ALL)
    before = await health(server)
    assert before["generic"] == {"last_delivery": None, "accepted": 0, "refused": 0, "failed": 0,
                                 "silence_warning_min": None, "silent": False}
    assert before["tiltify"]["silence_warning_min"] == 30
    assert (await send_generic(server, {"external_id": "h-1", "amount": "3.00"}))[0] == 200
    assert (await send_generic(server, {"external_id": "h-1", "amount": "3.00"}))[0] == 200  # a duplicate
    assert (await send_generic(server, {"external_id": "h-2", "amount": "3.00"}, "wrong-secret"))[0] == 401
    assert (await send_generic(server, {"external_id": "h-3", "amount": "3.00", "currency": "JPY"}))[0] == 422
    # An unknown provider or channel creates no counter.
    assert (await server.post("/webhooks/demo/patreon", data=b"{}", headers={}))[0] == 404
    after = await health(server)
    assert {k: after["generic"][k] for k in ("accepted", "refused", "failed")} == \
        {"accepted": 2, "refused": 2, "failed": 0}
    assert after["generic"]["last_delivery"] is not None and "patreon" not in after
    assert after["kofi"]["last_delivery"] is None

    async with server.http.get(server.url + "/metrics") as r:
        text = await r.text()
    assert 'overlay_integration_deliveries_total{channel="demo",outcome="refused",provider="generic"}' in text
    assert 'overlay_integration_last_delivery_timestamp_seconds{channel="demo",provider="generic"}' in text


async def test_two_servers_on_one_redis_share_the_counts(make_server: Any) -> None:
    first = await make_server("redis", webhooks=ALL)
    second = await make_server("redis", data_dir=None, webhooks=ALL)
    assert (await send_generic(first, {"external_id": "s-1", "amount": "1.00"}))[0] in (200, 201)
    assert (await send_generic(second, {"external_id": "s-2", "amount": "1.00"}, "bad"))[0] == 401
    for server in (first, second):
        seen = (await health(server))["generic"]
        assert (seen["accepted"], seen["refused"]) == (1, 1)


async def test_a_delivery_failed_while_redis_was_down_is_counted_once_it_is_back(
        aiohttp_server: Any, tmp_path: Any, own_redis: PersistentRedis) -> None:
    config = make_config(tmp_path / "data", own_redis.url, webhooks=ALL)
    app_server = await aiohttp_server(create_app(config), host="127.0.0.1")
    async with aiohttp.ClientSession() as http:
        server = Running(str(app_server.make_url("")).rstrip("/"), config, http, [])
        assert (await send_generic(server, {"external_id": "f-1", "amount": "1.00"}))[0] == 200
        own_redis.stop()
        assert (await send_generic(server, {"external_id": "f-2", "amount": "1.00"}))[0] == 503
        own_redis.start()
        assert (await send_generic(server, {"external_id": "f-2", "amount": "1.00"}))[0] == 200
        seen = (await health(server))["generic"]
        assert (seen["accepted"], seen["refused"], seen["failed"]) == (2, 0, 1)


def test_silence_is_warned_only_after_recent_deliveries_and_past_the_interval() -> None:
    class Cfg:
        silence_warning_min = 30
    now = 10 * 3_600_000
    assert _health({"last_ms": now - 31 * 60_000}, Cfg, now)["silent"] is True
    assert _health({"last_ms": now - 29 * 60_000}, Cfg, now)["silent"] is False
    assert _health({"last_ms": now - 7 * 3_600_000}, Cfg, now)["silent"] is False  # an old integration
    assert _health(None, Cfg, now)["silent"] is False  # never delivered
    Cfg.silence_warning_min = None
    assert _health({"last_ms": now - 31 * 60_000}, Cfg, now)["silent"] is False


@pytest.mark.parametrize("provider", ["tiltify", "kofi", "stripe", "generic", "twitch"])
async def test_send_test_event_goes_through_the_route_and_plays_an_uncounted_alert(
        make_server: Any, backend: str, provider: str) -> None:
    server = await make_server(backend, webhooks=ALL)
    overlay = await server.listen()
    state = await overlay.wait_for("state")
    status, result = await server.post(f"{INTEGRATIONS}/{provider}/test")
    assert status == 200, result
    assert result["ok"] is True and result["status"] in (200, 201), result
    assert result["external_id"].startswith("overlay-test-")
    d = (await overlay.wait_for("donation"))["donation"]
    assert (d["external_id"], d["test"], d["amount"]) == (result["external_id"], True, "5.00")
    await overlay.wait_for("alert")
    # It never counts: the totals are the same, and the health does not show it.
    _, now = await server.request("GET", "/api/v1/channels/demo/state")
    assert now["campaign"]["raised"] == state["campaign"]["raised"]
    assert (await health(server))[provider]["accepted"] == 0


async def test_send_test_event_reports_what_the_route_refused(make_server: Any) -> None:
    server = await make_server("embedded", webhooks=ALL)
    # No fx rate for JPY on this channel: Tiltify's route answers 200 with the refusal.
    status, result = await server.post(f"{INTEGRATIONS}/tiltify/test?currency=JPY")
    assert status == 200 and result["ok"] is False and result["status"] == 200
    assert "refused" in result["answer"]
    status, result = await server.post(f"{INTEGRATIONS}/generic/test?currency=JPY")
    assert status == 200 and result["ok"] is False and result["status"] == 422
    unconfigured = await make_server("embedded", webhooks={"generic": {"secret": GENERIC_SECRET}})
    status, answer = await unconfigured.post(f"{INTEGRATIONS}/kofi/test")
    assert status == 404 and answer["error"]["code"] == "provider_not_configured"
    status, answer = await unconfigured.post(f"{INTEGRATIONS}/generic/test", headers={})
    assert status in (401, 403)


# -- python server.py twitch-subscribe, against a fake Twitch ---------------------------------------

class FakeTwitchApi:
    """Twitch's token endpoint and Helix EventSub subscriptions, as documented: it checks the
    headers and body, records the subscription, then sends the verification challenge to the
    callback, signed with the subscription's secret, as Twitch does."""

    def __init__(self, http: Any) -> None:
        self.http, self.created, self.subs = http, [], []
        self.verifications: list[asyncio.Task[None]] = []
        self.unauthorized_by_broadcaster = False

    def app(self) -> Any:
        app = web.Application()
        app.router.add_post("/oauth2/token", self.token)
        app.router.add_get("/helix/eventsub/subscriptions", self.list)
        app.router.add_post("/helix/eventsub/subscriptions", self.create)
        return app

    async def token(self, request: Any) -> Any:
        form = await request.post()
        assert dict(form) == {"client_id": "app-client-id", "client_secret": "app-client-secret",
                              "grant_type": "client_credentials"}
        return web.json_response({"access_token": "app-token-123", "expires_in": 5011271, "token_type": "bearer"})

    def _authorized(self, request: Any) -> None:
        assert request.headers["Client-Id"] == "app-client-id"
        assert request.headers["Authorization"] == "Bearer app-token-123"

    async def list(self, request: Any) -> Any:
        self._authorized(request)
        return web.json_response({"data": self.subs, "total": len(self.subs), "total_cost": 0,
                                  "max_total_cost": 10000, "pagination": {}})

    async def create(self, request: Any) -> Any:
        self._authorized(request)
        assert request.headers["Content-Type"] == "application/json"
        body = await request.json()
        if self.unauthorized_by_broadcaster:  # what Twitch answers without the scope's authorization
            return web.json_response({"error": "Forbidden", "status": 403,
                                      "message": "subscription missing proper authorization"}, status=403)
        self.created.append(body)
        sub = {"id": str(uuid.uuid4()), "status": "webhook_callback_verification_pending", "type": body["type"],
               "version": body["version"], "condition": body["condition"], "cost": 0,
               "transport": {"method": "webhook", "callback": body["transport"]["callback"]},
               "created_at": "2026-01-01T00:00:00Z"}
        self.subs.append(sub)
        # As Twitch: the 202 first, then the challenge to the callback.
        self.verifications.append(asyncio.create_task(self.verify(sub, body["transport"]["secret"])))
        return web.json_response({"data": [dict(sub)], "total": len(self.subs), "total_cost": 0,
                                  "max_total_cost": 10000}, status=202)

    async def verify(self, sub: dict[str, Any], secret: str) -> None:
        challenge = json.dumps({"challenge": "pogchamp-kappa", "subscription": sub}).encode()
        ts = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        headers = twitch_headers(challenge, secret, str(uuid.uuid4()), ts, "webhook_callback_verification",
                                 sub["type"])
        async with self.http.post(sub["transport"]["callback"], data=challenge, headers=headers) as r:
            assert (r.status, await r.text()) == (200, "pogchamp-kappa")
        sub["status"] = "enabled"


def cli_config(tmp_path: Any, server: Any, twitch_api: Any, **twitch: Any) -> Any:
    """The streamer's config.yaml for the command: the app's credentials, the fake's addresses."""
    base = str(twitch_api.make_url("")).rstrip("/")
    twitch = {**TWITCH, "client_id": "app-client-id", "client_secret": "app-client-secret",
              "broadcaster_user_id": "123456", "api_base": base + "/helix", "auth_base": base + "/oauth2", **twitch}
    config = tmp_path / "config.yaml"
    config.write_text(json.dumps({"server": {"public_url": server.url},
                                  "storage": {"data_dir": str(tmp_path / "cli-data")},
                                  "channels": [channel_dict(webhooks={"twitch": twitch})]}))
    return config


async def run_cli(*args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(sys.executable, str(ROOT / "server.py"), *args, cwd=ROOT,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode or 0, out.decode()


async def test_twitch_subscribe_creates_the_subscriptions_once_and_twitch_verifies_them(
        make_server: Any, aiohttp_server: Any, tmp_path: Any) -> None:
    server = await make_server("embedded", webhooks={"twitch": TWITCH})
    fake = FakeTwitchApi(server.http)
    twitch_api = await aiohttp_server(fake.app())
    config = cli_config(tmp_path, server, twitch_api, cheer={"value_per_bit": "0.01"})
    code, out = await run_cli("twitch-subscribe", "--config", str(config), "--channel", "demo")
    assert code == 0, out
    assert "channel.charity_campaign.donate: created" in out and "channel.cheer: created" in out
    assert [(b["type"], b["version"], b["condition"], b["transport"]) for b in fake.created] == [
        (kind, "1", {"broadcaster_user_id": "123456"},
         {"method": "webhook", "callback": server.url + "/webhooks/demo/twitch", "secret": TWITCH["secret"]})
        for kind in ("channel.charity_campaign.donate", "channel.cheer")]
    await asyncio.gather(*fake.verifications)  # re-raises what the fake found wrong in the answer

    async def twitch_subs() -> Any:
        _, answer = await server.request("GET", INTEGRATIONS)
        return by_provider(answer)["twitch"]["subscriptions"]
    subs = await until(twitch_subs, lambda found: len(found) == 2, what="both subscriptions verified")
    assert sorted((s["type"], s["status"]) for s in subs) == [
        ("channel.charity_campaign.donate", "enabled"), ("channel.cheer", "enabled")]

    # Run again: both exist, nothing is created twice.
    code, out = await run_cli("twitch-subscribe", "--config", str(config), "--channel", "demo")
    assert code == 0 and "channel.charity_campaign.donate: exists" in out and len(fake.created) == 2, out
    code, out = await run_cli("twitch-subscribe", "--config", str(config), "--channel", "nope")
    assert code == 2 and "no channel" in out


async def test_twitch_subscribe_says_which_scope_the_broadcaster_must_grant(
        make_server: Any, aiohttp_server: Any, tmp_path: Any) -> None:
    server = await make_server("embedded", webhooks={"twitch": TWITCH})
    fake = FakeTwitchApi(server.http)
    fake.unauthorized_by_broadcaster = True
    config = cli_config(tmp_path, server, await aiohttp_server(fake.app()))
    code, out = await run_cli("twitch-subscribe", "--config", str(config), "--channel", "demo")
    assert code == 1 and "channel:read:charity" in out and fake.created == []
    assert TWITCH["secret"] not in out and "app-client-secret" not in out


# -- Tiltify webhook endpoint kept active, against a fake Tiltify API -------------------------------

class FakeTiltifyApi:
    """Tiltify's v5 token endpoint and private webhook endpoint API: the endpoint starts
    deactivated (as after a failed retry schedule); ``activate`` turns it back on."""

    ENDPOINT = "9c3dc859-b0f7-46cb-a496-71f8f94183b8"

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.deactivated_at: str | None = "2026-01-01T10:00:00.000000Z"

    def app(self) -> Any:
        app = web.Application()
        app.router.add_post("/oauth/token", self.token)
        app.router.add_get(f"/api/private/webhook_endpoints/{self.ENDPOINT}", self.endpoint)
        app.router.add_post(f"/api/private/webhook_endpoints/{self.ENDPOINT}/activate", self.activate)
        return app

    async def token(self, request: Any) -> Any:
        assert dict(request.query) == {"client_id": "tiltify-app", "client_secret": "tiltify-app-secret",
                                       "grant_type": "client_credentials", "scope": "webhooks:write"}
        self.calls.append(("token", ""))
        return web.json_response({"access_token": "tiltify-token-1", "created_at": "2026-01-01T10:00:00Z",
                                  "expires_in": 7200, "scope": "webhooks:write", "token_type": "bearer"})

    def _object(self) -> dict[str, Any]:
        return {"data": {"id": self.ENDPOINT, "activated_at": "2025-09-09T17:20:27.871173Z",
                         "deactivated_at": self.deactivated_at, "description": "overlay",
                         "url": "https://example.com/webhooks/demo/tiltify"}}

    async def endpoint(self, request: Any) -> Any:
        assert request.headers["Authorization"] == "Bearer tiltify-token-1"
        self.calls.append(("get", self.deactivated_at or ""))
        return web.json_response(self._object())

    async def activate(self, request: Any) -> Any:
        assert request.headers["Authorization"] == "Bearer tiltify-token-1"
        self.calls.append(("activate", ""))
        self.deactivated_at = None
        return web.json_response(self._object())


async def test_a_deactivated_tiltify_endpoint_is_reactivated_and_warned(
        make_server: Any, aiohttp_server: Any) -> None:
    fake = FakeTiltifyApi()
    api = await aiohttp_server(fake.app())
    tiltify = {**WEBHOOKS["tiltify"], "client_id": "tiltify-app", "client_secret": "tiltify-app-secret",
               "webhook_id": fake.ENDPOINT, "api_base": str(api.make_url("")).rstrip("/")}
    server = await make_server("embedded", webhooks={"tiltify": tiltify})

    async def tiltify_subs() -> Any:
        _, answer = await server.request("GET", INTEGRATIONS)
        return by_provider(answer)["tiltify"]["subscriptions"]
    subs = await until(tiltify_subs, what="the endpoint's status")
    assert [(s["type"], s["status"], s["active"]) for s in subs] == [("webhook_endpoint", "reactivated", False)]
    assert [c[0] for c in fake.calls] == ["token", "get", "activate"] and fake.deactivated_at is None
    _, headers, _ = await login(server)
    status, _, page = await get_page(server, session_of(headers), "/dashboard/demo?lang=en")
    assert status == 200 and "had been deactivated by the platform and was reactivated" in page
