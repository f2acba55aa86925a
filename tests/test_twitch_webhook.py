"""POST /webhooks/{ch}/twitch end to end: the real server on both backends, a fake Twitch.

The fake sends what Twitch's EventSub webhook transport sends: its header set, its
message types, the payloads of Twitch's documentation (tests/fixtures/webhooks/twitch_*.json;
the challenge and revocation examples there use another subscription type, set here to the
charity one), signed as Twitch signs them at the moment of sending.
"""
from __future__ import annotations

import copy
import itertools
import logging
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from overlay.app import create_app
from overlay.config import ConfigError, parse_config
from overlay.store import base
from overlay.store.embedded import EmbeddedStore
from overlay.store.redis import RedisStore
from tests.conftest import Running
from tests.support import MOD_TOKEN, OVERLAY_KEY, channel_dict, make_config
# logs and own_redis are fixtures
from tests.test_webhooks_e2e import (PersistentRedis, body, campaign, donations, fixture, logs,  # noqa: F401
                                     own_redis, stored_text)
from tests.webhook_signing import twitch_headers

SECRET = "eventsub-s3cret-0f3c9a"
WEBHOOKS = {"twitch": {"secret": SECRET}}
INTEGRATIONS = "/api/v1/channels/demo/integrations"
EVENT_ID = "a1b2c3-aabb-4455-d1e2f3"
DONATE = "channel.charity_campaign.donate"
_ids = itertools.count(1)


def twitch_time(dt: datetime) -> str:
    """Twitch writes nanoseconds: 2022-07-25T10:11:12.123398210Z."""
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f") + "210Z"


class FakeTwitch:
    """Delivers EventSub messages to one channel's callback as Twitch does."""

    def __init__(self, server: Any, secret: str = SECRET) -> None:
        self.server, self.secret = server, secret

    def sign(self, payload: Any, message_type: str = "notification", *, message_id: str | None = None,
             sent: datetime | None = None, secret: str | None = None) -> tuple[bytes, dict[str, str]]:
        raw = body(payload)
        message_id = message_id or f"befa7b53-d79d-478f-86b9-{next(_ids):012d}"
        sub_type = payload.get("subscription", {}).get("type", DONATE) if isinstance(payload, dict) else DONATE
        return raw, twitch_headers(raw, secret or self.secret, message_id,
                                   twitch_time(sent or datetime.now(timezone.utc)), message_type, sub_type)

    async def send(self, signed: tuple[bytes, dict[str, str]]) -> tuple[int, str, Any]:
        raw, headers = signed
        async with self.server.http.post(self.server.url + "/webhooks/demo/twitch", data=raw, headers=headers) as r:
            answer = await r.json() if r.content_type == "application/json" else await r.text()
            return r.status, r.content_type, answer


@pytest.fixture
async def hooked(make_server: Any, backend: str) -> Any:
    return await make_server(backend, webhooks=WEBHOOKS)


async def twitch_status(server: Any) -> dict[str, Any]:
    status, answer = await server.request("GET", INTEGRATIONS)
    assert status == 200, answer
    return next(i for i in answer["integrations"] if i["provider"] == "twitch")


def donation(event_id: str, value: int, currency: str = "EUR", **event: Any) -> dict[str, Any]:
    payload = fixture("twitch_charity_donate.json")
    payload["event"].update(id=event_id, amount={"value": value, "decimal_places": 2, "currency": currency}, **event)
    return payload


# -- the subscription's verification --------------------------------------------------------------

async def test_the_verification_challenge_is_answered_as_plain_text(hooked: Any) -> None:
    twitch = FakeTwitch(hooked)
    challenge = fixture("twitch_verification.json")
    forged = await twitch.send(twitch.sign(challenge, "webhook_callback_verification", secret="not-the-secret"))
    assert forged[0] == 403 and "pogchamp" not in str(forged[2])
    assert (await twitch_status(hooked))["subscriptions"] == []

    status, content_type, text = await twitch.send(twitch.sign(challenge, "webhook_callback_verification"))
    assert (status, content_type, text) == (200, "text/plain", "pogchamp-kappa-360noscope-vohiyo")
    source = await twitch_status(hooked)
    assert source["configured"] is True and source["url"].endswith("/webhooks/demo/twitch")
    assert [(s["type"], s["status"], s["active"]) for s in source["subscriptions"]] == [(DONATE, "enabled", True)]


# -- notifications: counted once, whatever Twitch resends ------------------------------------------

async def test_a_charity_donation_is_converted_pushed_and_counted_once(hooked: Any, logs: Any) -> None:
    twitch = FakeTwitch(hooked)
    overlay = await hooked.listen()
    await overlay.wait_for("state")
    first = twitch.sign(fixture("twitch_charity_donate.json"))
    status, _, answer = await twitch.send(first)
    assert status == 200 and answer["ok"] is True and answer["duplicate"] is False
    d = (await overlay.wait_for("donation"))["donation"]
    assert (d["id"], d["source"], d["external_id"]) == (answer["donation_id"], "twitch", EVENT_ID)
    assert (d["amount"], d["original_amount"], d["original_currency"], d["matched"]) == ("92.00", "100.00", "USD", "92.00")
    assert (d["donor_name"], d["message"]) == ("GenerousUser1", None)

    # The same message resent (same id): acknowledged, nothing done again.
    assert (await twitch.send(first))[::2] == (200, {"ok": True, "duplicate": True})
    # The same event under another message id: the donation's own key stops it.
    status, _, again = await twitch.send(twitch.sign(fixture("twitch_charity_donate.json")))
    assert (status, again["donation_id"], again["duplicate"]) == (200, answer["donation_id"], True)

    # A later donation arrives, and it is the only other one pushed.
    status, _, later = await twitch.send(twitch.sign(donation("z1y2x3-ccdd-6677-d1e2f3", 500, user_name="Cool_User")))
    assert status == 200 and later["duplicate"] is False
    await overlay.wait_for("donation", lambda e: e["donation"]["external_id"] == "z1y2x3-ccdd-6677-d1e2f3")
    assert [e["donation"]["external_id"] for e in overlay.of("donation")] == [EVENT_ID, "z1y2x3-ccdd-6677-d1e2f3"]
    c = await campaign(hooked)
    assert (c["count"], c["raised"], c["matched"]) == (2, "97.00", "97.00")
    assert SECRET not in logs.text


async def test_decimal_places_are_the_currencys_own(make_server: Any) -> None:
    server = await make_server("embedded", webhooks=WEBHOOKS, fx={"USD": "0.92", "JPY": "0.0061"})
    twitch = FakeTwitch(server)
    payload = donation("jpy-1", 1500, "JPY")
    payload["event"]["amount"]["decimal_places"] = 0
    status, _, answer = await twitch.send(twitch.sign(payload))
    assert status == 200 and answer["duplicate"] is False
    d = next(x for x in await donations(server) if x["external_id"] == "jpy-1")
    assert (d["original_amount"], d["original_currency"], d["amount"]) == ("1500", "JPY", "9.15")


async def test_storage_down_is_503_and_twitchs_resend_of_that_message_then_counts(
        aiohttp_server: Any, tmp_path: Path, own_redis: PersistentRedis) -> None:
    config = make_config(tmp_path / "data", own_redis.url, webhooks=WEBHOOKS)
    app_server = await aiohttp_server(create_app(config), host="127.0.0.1")
    async with aiohttp.ClientSession() as http:
        server = Running(str(app_server.make_url("")).rstrip("/"), config, http, [])
        twitch = FakeTwitch(server)
        message = twitch.sign(fixture("twitch_charity_donate.json"))
        own_redis.stop()
        status, _, answer = await twitch.send(message)
        assert (status, answer["error"]["code"]) == (503, "storage_unavailable")
        # A subscription created meanwhile is still verified: its status line is not worth failing it.
        challenge = twitch.sign(fixture("twitch_verification.json"), "webhook_callback_verification")
        assert (await twitch.send(challenge))[::2] == (200, "pogchamp-kappa-360noscope-vohiyo")
        own_redis.start()
        # Twitch resends the message it got no 2xx for, under the same id.
        status, _, answer = await twitch.send(message)
        assert status == 200 and answer["duplicate"] is False
        assert (await twitch.send(message))[::2] == (200, {"ok": True, "duplicate": True})
        assert (await campaign(server))["count"] == 1


async def test_bits_count_only_when_configured_and_are_labelled_as_platform_revenue(make_server: Any) -> None:
    off = await make_server("embedded", webhooks=WEBHOOKS)
    status, _, answer = await FakeTwitch(off).send(FakeTwitch(off).sign(fixture("twitch_cheer.json")))
    assert status == 200 and "ignored" in answer and (await campaign(off))["count"] == 0

    server = await make_server("embedded", webhooks={"twitch": {
        "secret": SECRET, "cheer": {"value_per_bit": "0.01", "currency": "USD"}}})
    twitch = FakeTwitch(server)
    cheer = twitch.sign(fixture("twitch_cheer.json"))
    status, _, answer = await twitch.send(cheer)
    assert status == 200 and answer["duplicate"] is False
    anonymous = fixture("twitch_cheer.json")
    anonymous["event"].update(is_anonymous=True, user_id=None, user_login=None, user_name=None, bits=1, message="")
    assert (await twitch.send(twitch.sign(anonymous)))[0] == 200
    assert (await twitch.send(cheer))[::2] == (200, {"ok": True, "duplicate": True})
    rows = sorted(await donations(server), key=lambda d: d["original_amount"])
    assert [(d["source"], d["original_amount"], d["original_currency"], d["amount"], d["donor_name"], d["message"])
            for d in rows] == [("twitch_bits", "0.01", "USD", "0.01", None, None),
                               ("twitch_bits", "10.00", "USD", "9.20", "Cool_User", "pogchamp")], rows
    assert rows[1]["external_id"] == cheer[1]["Twitch-Eventsub-Message-Id"]


# -- refusals: nothing stored --------------------------------------------------------------------

async def test_forged_tampered_stale_and_unsigned_messages_are_refused(hooked: Any, logs: Any) -> None:
    twitch = FakeTwitch(hooked)
    payload = fixture("twitch_charity_donate.json")
    raw, headers = twitch.sign(payload, message_id="reused-after-refusals")
    unsigned = {k: v for k, v in headers.items() if k != "Twitch-Eventsub-Message-Signature"}
    now = datetime.now(timezone.utc)
    cases = [
        (twitch.sign(payload, secret="not-the-eventsub-secret"), "invalid_signature"),
        ((raw.replace(b"10000", b"99999"), headers), "invalid_signature"),
        ((raw, headers | {"Twitch-Eventsub-Message-Id": "another-id"}), "invalid_signature"),
        ((raw, unsigned), "missing_signature"),
        (twitch.sign(payload, sent=now - timedelta(minutes=11)), "stale_timestamp"),
        (twitch.sign(payload, sent=now + timedelta(minutes=11)), "stale_timestamp"),
    ]
    for signed, code in cases:
        status, _, answer = await twitch.send(signed)
        assert (status, answer["error"]["code"]) == (403, code), code
    assert (await campaign(hooked))["count"] == 0 and await donations(hooked) == []
    assert "GenerousUser1" not in stored_text(hooked)
    refusals = [r for r in logs.records if r.name == "overlay.intake.webhooks.routes" and "refused" in r.getMessage()]
    assert len(refusals) == len(cases)

    # A refused message was not remembered: Twitch's genuine one under that id still counts.
    status, _, answer = await twitch.send((raw, headers))
    assert status == 200 and answer["duplicate"] is False
    assert (await campaign(hooked))["count"] == 1
    assert SECRET not in logs.text


async def test_a_missing_field_is_400_and_an_unknown_currency_is_acknowledged(hooked: Any, logs: Any) -> None:
    twitch = FakeTwitch(hooked)
    incomplete = []
    for path in (("event", "amount"), ("event", "id"), ("event", "user_name"), ("event", "amount", "decimal_places"),
                 ("event",)):
        payload = fixture("twitch_charity_donate.json")
        parent = payload
        for key in path[:-1]:
            parent = parent[key]
        del parent[path[-1]]
        incomplete.append(payload)
    for payload in incomplete:
        status, _, answer = await twitch.send(twitch.sign(payload))
        assert (status, answer["error"]["code"]) in {(400, "invalid_body"), (400, "invalid_amount")}, answer
    warnings = [r for r in logs.records if r.name == "overlay.intake.webhooks.routes" and "refused" in r.getMessage()]
    assert len(warnings) == len(incomplete)

    cad = twitch.sign(donation("cad-1", 3000, "CAD"))
    status, _, answer = await twitch.send(cad)
    assert status == 200 and answer["refused"]["code"] == "unsupported_currency"
    errors = [r for r in logs.records if r.name == "overlay.intake.webhooks.routes" and r.levelno == logging.ERROR]
    assert len(errors) == 1
    # Acknowledged, so Twitch stops: its resend is a duplicate, not logged again.
    assert (await twitch.send(cad))[::2] == (200, {"ok": True, "duplicate": True})
    assert len([r for r in logs.records if r.levelno == logging.ERROR]) == 1
    assert (await campaign(hooked))["count"] == 0 and await donations(hooked) == []


# -- revocation: acknowledged, logged once, shown --------------------------------------------------

async def test_a_revocation_is_acknowledged_logged_once_and_shown(hooked: Any, logs: Any) -> None:
    twitch = FakeTwitch(hooked)
    revocation = twitch.sign(fixture("twitch_revocation.json"), "revocation")
    status, _, answer = await twitch.send(revocation)
    assert (status, answer) == (200, {"ok": True, "revoked": DONATE})
    assert (await twitch.send(revocation))[::2] == (200, {"ok": True, "duplicate": True})
    logged = [r for r in logs.records if r.name == "overlay.intake.webhooks.eventsub" and "revoked" in r.getMessage()]
    assert len(logged) == 1 and logged[0].levelno == logging.WARNING

    subs = (await twitch_status(hooked))["subscriptions"]
    assert [(s["type"], s["status"], s["active"]) for s in subs] == [(DONATE, "authorization_revoked", False)]
    assert subs[0]["at"].endswith("Z")
    status, answer = await hooked.request("GET", INTEGRATIONS, headers={"Authorization": f"Bearer {OVERLAY_KEY}"})
    assert status in (401, 403), answer

    html = await dashboard(hooked)
    assert 'data-status="authorization_revoked"' in html and "revoked by the platform" in html

    # The streamer creates the subscription again: Twitch's new challenge marks it enabled.
    await twitch.send(twitch.sign(fixture("twitch_verification.json"), "webhook_callback_verification"))
    subs = (await twitch_status(hooked))["subscriptions"]
    assert [(s["status"], s["active"]) for s in subs] == [("enabled", True)]
    assert 'data-status="authorization_revoked"' not in await dashboard(hooked)


async def dashboard(server: Any) -> str:
    async with server.http.post(server.url + "/dashboard/demo/login", data={"token": MOD_TOKEN},
                                headers={"Origin": server.url}, allow_redirects=False) as r:
        assert r.status in (302, 303), r.status
        cookie = r.cookies["overlay_session_demo"].value
    async with server.http.get(server.url + "/dashboard/demo", headers={"Cookie": f"overlay_session_demo={cookie}"}) as r:
        assert r.status == 200
        return await r.text()


async def test_other_subscription_types_are_acknowledged_and_ignored(hooked: Any) -> None:
    twitch = FakeTwitch(hooked)
    follow = {"subscription": fixture("twitch_charity_donate.json")["subscription"] | {"type": "channel.follow"},
              "event": {"user_id": "1234", "user_login": "cool_user", "user_name": "Cool_User",
                        "broadcaster_user_id": "1337", "broadcaster_user_login": "cooler_user",
                        "broadcaster_user_name": "Cooler_User", "followed_at": "2020-07-15T18:16:11.17106713Z"}}
    status, _, answer = await twitch.send(twitch.sign(follow))
    assert status == 200 and "ignored" in answer
    assert (await campaign(hooked))["count"] == 0


# -- the delivery-id store, on both backends --------------------------------------------------------

@pytest.fixture
async def store(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Any:
    s: base.Store = RedisStore(request.getfixturevalue("redis_url")) if backend == "redis" else EmbeddedStore(tmp_path)
    await s.open([make_config(tmp_path).channels[0]])
    yield s
    await s.close()


async def test_delivery_ids_are_kept_per_channel_and_provider_until_they_expire(store: Any) -> None:
    now_ms = int(datetime.now(timezone.utc).timestamp() * 1000)
    await store.remember_delivery("demo", "twitch", "m-1", now_ms + 60_000)
    await store.remember_delivery("demo", "twitch", "m-old", now_ms - 1)
    assert await store.delivery_seen("demo", "twitch", "m-1") is True
    assert await store.delivery_seen("demo", "twitch", "m-old") is False
    assert await store.delivery_seen("other", "twitch", "m-1") is False
    assert await store.delivery_seen("demo", "generic", "m-1") is False
    await store.put_integration_status("demo", "twitch", DONATE, {"status": "enabled", "at": now_ms})
    await store.put_integration_status("demo", "twitch", "channel.cheer", {"status": "user_removed", "at": now_ms})
    assert await store.integration_status("demo") == {"twitch": {
        "channel.cheer": {"status": "user_removed", "at": now_ms}, DONATE: {"status": "enabled", "at": now_ms}}}
    assert await store.integration_status("other") == {}


# -- config ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("secret", ["too-short", "x" * 101, "naïve-secret-12"])
def test_the_secret_must_be_one_twitch_accepts(secret: str) -> None:
    with pytest.raises(ConfigError) as exc:
        parse_config({"channels": [channel_dict(webhooks={"twitch": {"secret": secret}})]}, env={})
    assert any(p.startswith("channels[0].webhooks.twitch.secret: must be 10 to 100") for p in exc.value.problems), \
        exc.value.problems
    assert not any(secret in p for p in exc.value.problems)


# -- the unsigned type header cannot turn one message into another ------------------------------------

@pytest.mark.parametrize("message_type", ["webhook_callback_verification", "revocation"])
def test_a_notification_cannot_be_passed_off_as_another_message_type(message_type: str) -> None:
    from overlay.intake.webhooks import WebhookError, twitch
    from overlay.settings.webhooks import TwitchSettings

    now = datetime.now(timezone.utc)
    raw = body(fixture("twitch_charity_donate.json"))
    headers = twitch_headers(raw, SECRET, "m-1", twitch_time(now), message_type, DONATE)
    with pytest.raises(WebhookError) as exc:
        twitch.parse(headers, raw, TwitchSettings(secret=SECRET), now)
    assert (exc.value.status, exc.value.code) == (400, "invalid_body")


@pytest.mark.parametrize("cheer,expected", [
    ({"value_per_bit": "0"}, "channels[0].webhooks.twitch.cheer.value_per_bit: must be more than 0"),
    ({"value_per_bit": "a lot"}, "channels[0].webhooks.twitch.cheer.value_per_bit: String should match pattern"),
    ({"value_per_bit": "0.01", "currency": "usd"}, "channels[0].webhooks.twitch.cheer.currency: String should match"),
    ({}, "channels[0].webhooks.twitch.cheer.value_per_bit: "),
])
def test_the_value_of_bits_is_checked(cheer: dict[str, str], expected: str) -> None:
    with pytest.raises(ConfigError) as exc:
        parse_config({"channels": [channel_dict(webhooks={"twitch": {"secret": SECRET, "cheer": cheer}})]}, env={})
    assert any(p.startswith(expected) for p in exc.value.problems), exc.value.problems
