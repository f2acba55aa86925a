"""POST /webhooks/{ch}/{provider} end to end: the real server on both backends.

Only the platforms are simulated: their real payloads (tests/fixtures/webhooks/),
signed with their real algorithms (tests/webhook_signing.py) at the moment of sending.
"""
from __future__ import annotations

import copy
import json
import logging
import shutil
import sqlite3
import subprocess
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import redis

from overlay.app import create_app
from tests.conftest import Running
from tests.support import WAIT, RedisServer, make_config, missing
from tests.webhook_signing import (
    KOFI_HEADERS,
    generic_headers,
    kofi_form,
    stripe_headers,
    tiltify_headers,
)

FIXTURES = Path(__file__).parent / "fixtures" / "webhooks"
TILTIFY_SECRET = "tiltify-signing-id-0f3c9a"
KOFI_TOKEN = "8c1f3a52-6d0e-4b7a-9f21-3e5d7c9b1a04"
STRIPE_SECRET = "whsec_e2e_5d2b7c1a9e"
GENERIC_SECRET = "generic-shared-secret-77"
SECRETS = (TILTIFY_SECRET, KOFI_TOKEN, STRIPE_SECRET, GENERIC_SECRET)
EMAILS = ("camille.r@example.com", "noor.supporter@example.com", "lea.donor@example.com", "sam.example@example.com")
WEBHOOKS = {"tiltify": {"secret": TILTIFY_SECRET}, "kofi": {"verification_token": KOFI_TOKEN},
            "stripe": {"secret": STRIPE_SECRET}, "generic": {"secret": GENERIC_SECRET}}
STATE = "/api/v1/channels/demo/state"
DONATIONS = "/api/v1/channels/demo/donations"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def body(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False).encode("utf-8")


def rfc3339(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def tiltify(payload: Any, secret: str = TILTIFY_SECRET, sent: datetime | None = None) -> tuple[bytes, dict[str, str]]:
    raw = body(payload)
    return raw, tiltify_headers(raw, secret, rfc3339(sent or datetime.now(timezone.utc)))


def stripe(payload: Any, secret: str = STRIPE_SECRET, t: int | None = None) -> tuple[bytes, dict[str, str]]:
    raw = body(payload)
    return raw, stripe_headers(raw, secret, int(time.time()) if t is None else t)


def generic(payload: Any, secret: str = GENERIC_SECRET) -> tuple[bytes, dict[str, str]]:
    raw = body(payload)
    return raw, generic_headers(raw, secret)


def kofi(payload: Any) -> tuple[bytes, dict[str, str]]:
    return kofi_form(payload), KOFI_HEADERS


async def deliver(server: Any, provider: str, signed: tuple[bytes, dict[str, str]], channel: str = "demo") -> Any:
    raw, headers = signed
    return await server.post(f"/webhooks/{channel}/{provider}", headers=headers, data=raw)


async def campaign(server: Any) -> dict[str, Any]:
    _, state = await server.request("GET", STATE)
    return state["campaign"] | {"match_used": state["match"]["used"]}


async def donations(server: Any) -> list[dict[str, Any]]:
    status, rows = await server.request("GET", DONATIONS)
    assert status == 200
    return rows["donations"] if isinstance(rows, dict) else rows


def stored_text(server: Any) -> str:
    """Everything the backend holds, as text: to prove what was never stored."""
    if server.config.storage.redis_url:
        r = redis.Redis.from_url(server.config.storage.redis_url, decode_responses=True)
        try:
            out = []
            for key in r.scan_iter("overlay:*"):
                kind = r.type(key)
                if kind == "string":
                    out.append(r.get(key))
                elif kind == "hash":
                    out += [f"{k}={v}" for k, v in r.hgetall(key).items()]
                elif kind == "zset":
                    out += r.zrange(key, 0, -1)
            return "\n".join(out)
        finally:
            r.close()
    db = sqlite3.connect(Path(server.config.storage.data_dir) / "overlay.sqlite3")
    try:
        rows = [str(row) for table in ("channel_state", "donations", "external_ids", "leaderboard", "events")
                for row in db.execute(f"SELECT * FROM {table}")]  # noqa: S608 - fixed names
        return "\n".join(rows)
    finally:
        db.close()


def assert_no_secrets(text: str) -> None:
    for secret in SECRETS + EMAILS:
        assert secret not in text, f"{secret!r} leaked"


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    return caplog


@pytest.fixture
async def hooked(make_server: Any, backend: str) -> Any:
    return await make_server(backend, webhooks=WEBHOOKS)


# -- valid deliveries and redeliveries --------------------------------------------------

async def test_tiltify_donation_is_converted_matched_pushed_and_counted_once(hooked: Any, logs: Any) -> None:
    overlay = await hooked.listen()
    await overlay.wait_for("state")
    payload = fixture("tiltify_donation_updated.json")
    status, answer = await deliver(hooked, "tiltify", tiltify(payload))
    assert status == 200 and answer["ok"] is True and answer["duplicate"] is False
    ev = await overlay.wait_for("donation")
    d = ev["donation"]
    assert (d["id"], d["source"], d["external_id"]) == (answer["donation_id"], "tiltify", payload["data"]["id"])
    assert (d["amount"], d["original_amount"], d["original_currency"], d["matched"]) == ("23.00", "25.00", "USD", "23.00")
    assert (d["donor_name"], d["message"]) == ("PixelPanda", "Go go go! Pour les Restos!")
    assert d["created_at"] == "2024-11-16T20:14:05.118Z"

    # Tiltify re-signs every attempt with a fresh timestamp; the donation id stays.
    status, again = await deliver(hooked, "tiltify", tiltify(payload))
    assert (status, again["donation_id"], again["duplicate"]) == (200, answer["donation_id"], True)
    c = await campaign(hooked)
    assert (c["count"], c["raised"], c["matched"], c["match_used"]) == (1, "23.00", "23.00", "23.00")
    await overlay.wait_for("alert", lambda e: e["action"] == "play")
    assert len(overlay.of("donation")) == 1
    assert_no_secrets(logs.text)


async def test_kofi_donation_private_message_and_no_email(hooked: Any, logs: Any) -> None:
    status, answer = await deliver(hooked, "kofi", kofi(fixture("kofi_donation.json")))
    assert status == 200 and answer["duplicate"] is False
    status, again = await deliver(hooked, "kofi", kofi(fixture("kofi_donation.json")))
    assert status == 200 and again["duplicate"] is True

    sub = fixture("kofi_subscription.json")  # is_public: false, USD
    status, answer = await deliver(hooked, "kofi", kofi(sub))
    assert status == 200
    by_source = {d["external_id"]: d for d in await donations(hooked)}
    public, private = by_source[fixture("kofi_donation.json")["message_id"]], by_source[sub["message_id"]]
    assert (public["amount"], public["donor_name"], public["message"]) == ("5.00", "Camille R.", "Bon courage pour le live !")
    assert (private["amount"], private["original_currency"], private["donor_name"]) == ("2.76", "USD", "Noor")
    assert private["message"] is None and private["original_message"] is None
    assert (await campaign(hooked))["count"] == 2
    stored = stored_text(hooked)
    assert "Camille R." in stored and "Private note for you only" not in stored
    assert_no_secrets(stored)
    assert_no_secrets(logs.text)


async def test_kofi_payment_types_not_counted_are_ignored(hooked: Any) -> None:
    status, answer = await deliver(hooked, "kofi", kofi(fixture("kofi_shop_order.json")))
    assert status == 200 and "ignored" in answer
    payload = fixture("kofi_donation.json") | {"type": "Refund"}
    status, answer = await deliver(hooked, "kofi", kofi(payload))
    assert status == 200 and "ignored" in answer
    assert (await campaign(hooked))["count"] == 0
    assert_no_secrets(stored_text(hooked))


async def test_stripe_checkout_paid_async_and_refund_gives_the_match_back(hooked: Any, logs: Any) -> None:
    overlay = await hooked.listen()
    await overlay.wait_for("state")
    session = fixture("stripe_checkout_session_completed.json")
    status, answer = await deliver(hooked, "stripe", stripe(session))
    assert status == 200 and answer["duplicate"] is False
    d = (await overlay.wait_for("donation"))["donation"]
    assert (d["amount"], d["matched"], d["donor_name"], d["message"]) == ("12.50", "12.50", "Léa Martin", "Hello from the chat!")
    assert d["external_id"] == "pi_3QLm4uAbCdEfGhIj1XyZ0aBc"

    status, again = await deliver(hooked, "stripe", stripe(session))
    assert status == 200 and again["duplicate"] is True

    # A delayed payment: the completed session is unpaid (ignored), the async success counts.
    delayed = copy.deepcopy(session)
    delayed["data"]["object"].update(payment_status="unpaid", payment_intent="pi_delayed_1", amount_total=2000)
    status, answer = await deliver(hooked, "stripe", stripe(delayed))
    assert status == 200 and "ignored" in answer
    assert (await campaign(hooked))["count"] == 1
    delayed["type"] = "checkout.session.async_payment_succeeded"
    delayed["data"]["object"]["payment_status"] = "paid"
    status, answer = await deliver(hooked, "stripe", stripe(delayed))
    assert status == 200 and answer["duplicate"] is False
    c = await campaign(hooked)
    assert (c["count"], c["raised"], c["matched"], c["match_used"]) == (2, "32.50", "32.50", "32.50")

    refund = fixture("stripe_charge_refunded.json")
    status, answer = await deliver(hooked, "stripe", stripe(refund))
    assert status == 200 and answer["refunded"] == d["id"]
    progress = await overlay.wait_for("progress", lambda e: e["campaign"]["raised"] == "20.00")
    assert progress["campaign"]["total"] == "40.00"
    c = await campaign(hooked)
    assert (c["count"], c["raised"], c["matched"], c["match_used"]) == (1, "20.00", "20.00", "20.00")
    status, rec = await hooked.request("GET", f"{DONATIONS}?limit=10")
    assert {x["id"]: x["status"] for x in rec["donations"]}[d["id"]] == "refunded"

    # The refund redelivered, and a refund of a payment we never saw: 200, nothing moves.
    assert (await deliver(hooked, "stripe", stripe(refund)))[0] == 200
    unknown = copy.deepcopy(refund)
    unknown["data"]["object"]["payment_intent"] = "pi_never_seen"
    status, answer = await deliver(hooked, "stripe", stripe(unknown))
    assert status == 200 and answer["refunded"] is None
    assert await campaign(hooked) == c
    assert_no_secrets(stored_text(hooked))
    assert_no_secrets(logs.text)


async def test_stripe_partial_refund_and_other_event_types_are_ignored(hooked: Any) -> None:
    await deliver(hooked, "stripe", stripe(fixture("stripe_checkout_session_completed.json")))
    partial = fixture("stripe_charge_refunded.json")
    partial["data"]["object"].update(refunded=False, amount_refunded=250)
    status, answer = await deliver(hooked, "stripe", stripe(partial))
    assert status == 200 and "ignored" in answer
    other = {"id": "evt_1", "object": "event", "type": "payment_intent.succeeded", "created": int(time.time()),
             "data": {"object": {"id": "pi_x", "object": "payment_intent", "amount": 999, "currency": "eur"}}}
    status, answer = await deliver(hooked, "stripe", stripe(other))
    assert status == 200 and "ignored" in answer
    c = await campaign(hooked)
    assert (c["count"], c["raised"]) == (1, "12.50")


async def test_generic_and_tiltify_other_events(hooked: Any) -> None:
    status, answer = await deliver(hooked, "generic", generic(fixture("generic_donation.json")))
    assert status == 200 and answer["duplicate"] is False
    status, answer = await deliver(hooked, "generic", generic(fixture("generic_donation.json")))
    assert status == 200 and answer["duplicate"] is True
    status, answer = await deliver(hooked, "tiltify", tiltify(fixture("tiltify_fact_updated.json")))
    assert status == 200 and "ignored" in answer
    c = await campaign(hooked)
    assert (c["count"], c["raised"]) == (1, "10.00")


# -- refusals: nothing stored, logged without secrets --------------------------------------------

async def test_forged_tampered_stale_and_unsigned_deliveries_are_refused(hooked: Any, logs: Any) -> None:
    t_payload = fixture("tiltify_donation_updated.json")
    raw, headers = tiltify(t_payload)
    tampered = raw.replace(b'"25.00"', b'"2500.00"')
    old = datetime.now(timezone.utc) - timedelta(minutes=6)
    s_raw, s_headers = stripe(fixture("stripe_checkout_session_completed.json"))
    g_raw, g_headers = generic(fixture("generic_donation.json"))
    cases = [
        ("tiltify", tiltify(t_payload, secret="not-the-signing-id"), 401, "invalid_signature"),
        ("tiltify", (tampered, headers), 401, "invalid_signature"),
        ("tiltify", tiltify(t_payload, sent=old), 401, "stale_timestamp"),
        ("tiltify", (raw, {"Content-Type": "application/json"}), 401, "missing_signature"),
        ("stripe", stripe(fixture("stripe_checkout_session_completed.json"), secret="whsec_wrong"), 401,
         "invalid_signature"),
        ("stripe", (s_raw.replace(b"1250", b"9250"), s_headers), 401, "invalid_signature"),
        ("stripe", stripe(fixture("stripe_checkout_session_completed.json"), t=int(time.time()) - 600), 401,
         "stale_timestamp"),
        ("stripe", (s_raw, {"Content-Type": "application/json"}), 401, "missing_signature"),
        ("generic", generic(fixture("generic_donation.json"), secret="guess"), 401, "invalid_signature"),
        ("generic", (g_raw.replace(b"10.00", b"99.00"), g_headers), 401, "invalid_signature"),
        ("generic", (g_raw, {"Content-Type": "application/json"}), 401, "missing_signature"),
        ("kofi", kofi(fixture("kofi_donation.json") | {"verification_token": "wrong-token"}), 401, "invalid_token"),
        ("kofi", (b"data=%7Bnot+json", KOFI_HEADERS), 400, "invalid_body"),
        ("kofi", (b"", KOFI_HEADERS), 400, "invalid_body"),
        ("generic", generic({"amount": "5.00"}), 400, "invalid_body"),  # external_id is required
        ("generic", generic({"external_id": "x", "amount": "NaN"}), 400, "invalid_amount"),
        ("generic", (b"{not json", generic_headers(b"{not json", GENERIC_SECRET)), 400, "invalid_body"),
        ("generic", generic(["a", "list"]), 400, "invalid_body"),
    ]
    for provider, signed, status, code in cases:
        got_status, answer = await deliver(hooked, provider, signed)
        assert (got_status, answer["error"]["code"]) == (status, code), (provider, code, answer)
    c = await campaign(hooked)
    assert (c["count"], c["raised"]) == (0, "0.00")
    assert await donations(hooked) == []
    refusals = [r for r in logs.records if r.name == "overlay.intake.webhooks.routes" and "refused" in r.getMessage()]
    assert len(refusals) == len(cases)
    assert_no_secrets(logs.text)


async def test_unknown_channel_provider_unconfigured_and_oversized(make_server: Any, backend: str, logs: Any) -> None:
    server = await make_server(backend, webhooks={"generic": {"secret": GENERIC_SECRET}})
    signed = generic(fixture("generic_donation.json"))
    status, answer = await deliver(server, "generic", signed, channel="nope")
    assert (status, answer["error"]["code"]) == (404, "channel_not_found")
    status, answer = await deliver(server, "patreon", signed)
    assert (status, answer["error"]["code"]) == (404, "unknown_provider")
    status, answer = await deliver(server, "tiltify", tiltify(fixture("tiltify_donation_updated.json")))
    assert (status, answer["error"]["code"]) == (404, "provider_not_configured")
    big = fixture("generic_donation.json") | {"message": "x" * 70_000}
    status, answer = await deliver(server, "generic", generic(big))
    assert (status, answer["error"]["code"]) == (413, "body_too_large")
    assert (await campaign(server))["count"] == 0
    messages = [r.getMessage() for r in logs.records if r.name == "overlay.intake.webhooks.routes"]
    assert any("channel_not_found" in m for m in messages) and any("body_too_large" in m for m in messages)
    assert_no_secrets(logs.text)


# -- fx and donations a platform would retry forever -------------------------------------------

async def test_fx_refusals_answer_2xx_to_platforms_and_422_to_generic(hooked: Any, logs: Any) -> None:
    cad = fixture("tiltify_donation_updated.json")
    cad["data"]["amount"] = {"currency": "CAD", "value": "30.00"}
    status, answer = await deliver(hooked, "tiltify", tiltify(cad))
    assert status == 200 and answer["refused"]["code"] == "unsupported_currency"

    three_decimals = fixture("tiltify_donation_updated.json")
    three_decimals["data"]["amount"] = {"currency": "EUR", "value": "10.001"}
    status, answer = await deliver(hooked, "tiltify", tiltify(three_decimals))
    assert status == 200 and answer["refused"]["code"] == "invalid_amount"

    jpy = fixture("stripe_checkout_session_completed.json")
    jpy["data"]["object"].update(currency="jpy", amount_total=1500)
    status, answer = await deliver(hooked, "stripe", stripe(jpy))
    assert status == 200 and answer["refused"]["code"] == "unsupported_currency"

    chf = fixture("kofi_donation.json") | {"currency": "CHF"}
    status, answer = await deliver(hooked, "kofi", kofi(chf))
    assert status == 200 and answer["refused"]["code"] == "unsupported_currency"

    status, answer = await deliver(hooked, "generic", generic(fixture("generic_donation.json") | {"currency": "CAD"}))
    assert (status, answer["error"]["code"]) == (422, "unsupported_currency")
    status, answer = await deliver(hooked, "generic", generic(fixture("generic_donation.json") | {"amount": "1.999"}))
    assert (status, answer["error"]["code"]) == (422, "invalid_amount")

    assert (await campaign(hooked))["count"] == 0
    errors = [r for r in logs.records if r.name == "overlay.intake.webhooks.routes" and r.levelno == logging.ERROR]
    assert len(errors) == 6
    assert_no_secrets(logs.text)

    # Once a rate exists the platforms' own conversion-free amounts go through, converted.
    gbp = fixture("generic_donation.json") | {"currency": "GBP", "amount": "10.00", "external_id": "gbp-1"}
    status, answer = await deliver(hooked, "generic", generic(gbp))
    assert status == 200
    d = next(x for x in await donations(hooked) if x["id"] == answer["donation_id"])
    assert (d["amount"], d["original_amount"], d["original_currency"]) == ("11.70", "10.00", "GBP")


# -- moderation applies exactly as for API donations -------------------------------------------

async def test_moderation_rules_apply_to_webhook_donations(make_server: Any, backend: str) -> None:
    server = await make_server(backend, webhooks=WEBHOOKS, moderation={
        "hold": "messages", "banned_words": ["darn"], "strip_links": True,
        "name_min_amount": "10.00", "max_message_length": 20})
    small = fixture("generic_donation.json") | {
        "external_id": "m-1", "amount": "5.00", "donor_name": "Small Donor",
        "message": "darn nice, see www.spam.example.com now please"}
    status, answer = await deliver(server, "generic", generic(small))
    assert status == 200
    big = fixture("generic_donation.json") | {"external_id": "m-2", "amount": "25.00", "donor_name": "Big Donor",
                                               "message": None}
    assert (await deliver(server, "generic", generic(big)))[0] == 200
    via_api = await server.donate(amount="5.00", donor_name="Small Donor",
                                  message="darn nice, see www.spam.example.com now please")
    rows = {d["external_id"]: d for d in await donations(server)}
    hooked, plain = rows["m-1"], rows[None]
    for field in ("donor_name", "message", "status", "flagged", "original_message"):
        assert hooked[field] == plain[field] == via_api[field], field
    assert hooked["donor_name"] is None and hooked["status"] == "held" and hooked["flagged"] is True
    assert hooked["message"] == "**** nice, see now p" and len(hooked["message"]) == 20
    assert (rows["m-2"]["donor_name"], rows["m-2"]["status"]) == ("Big Donor", "approved")


# -- storage down: 503 so the platform retries, then exactly once --------------------------------

class PersistentRedis(RedisServer):
    """A redis-server of this test's own, with an append-only file: it comes back with its data."""

    def __init__(self, data_dir: Path) -> None:
        super().__init__()
        self.data_dir = data_dir

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            missing("redis-server")
        self.proc = subprocess.Popen([binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "yes", "--appendfsync", "always", "--dir", str(self.data_dir)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.wait_until_up()

    def wait_until_up(self) -> None:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            try:
                r = redis.Redis.from_url(self.url)
                if r.ping():
                    r.close()
                    return
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")


@pytest.fixture
async def own_redis(tmp_path: Path) -> AsyncIterator[PersistentRedis]:
    server = PersistentRedis(tmp_path)
    server.start()
    yield server
    server.stop()


async def test_redis_down_is_503_then_the_retry_stores_it_once(aiohttp_server: Any, tmp_path: Path,
                                                               own_redis: PersistentRedis, logs: Any) -> None:
    config = make_config(tmp_path / "data", own_redis.url, webhooks=WEBHOOKS)
    app_server = await aiohttp_server(create_app(config), host="127.0.0.1")
    async with aiohttp.ClientSession() as http:
        server = Running(str(app_server.make_url("")).rstrip("/"), config, http, [])
        try:
            overlay = await server.listen()
            await overlay.wait_for("state")
            first = fixture("generic_donation.json") | {"external_id": "before-outage"}
            assert (await deliver(server, "generic", generic(first)))[0] == 200
            await overlay.wait_for("donation")

            own_redis.stop()
            payload = fixture("stripe_checkout_session_completed.json")
            async with http.post(server.url + "/webhooks/demo/stripe", data=stripe(payload)[0],
                                 headers=stripe(payload)[1]) as r:
                assert r.status == 503 and r.headers["Retry-After"].isdigit()
                assert (await r.json())["error"]["code"] == "storage_unavailable"
            status, _ = await server.request("GET", "/healthz")
            assert status == 503

            own_redis.start()
            # Stripe retries later, signing the new attempt with a new timestamp.
            status, answer = await deliver(server, "stripe", stripe(payload))
            assert status == 200 and answer["duplicate"] is False
            status, again = await deliver(server, "stripe", stripe(payload))
            assert status == 200 and again["duplicate"] is True
            # The pub/sub listener came back too: overlays see the donation made after the outage.
            ev = await overlay.wait_for("donation", lambda e: e["donation"]["source"] == "stripe")
            assert ev["donation"]["id"] == answer["donation_id"]
            c = await campaign(server)
            assert (c["count"], c["raised"]) == (2, "22.50")
            assert [d["external_id"] for d in await donations(server)] == ["pi_3QLm4uAbCdEfGhIj1XyZ0aBc", "before-outage"]
            assert_no_secrets(logs.text)
        finally:
            for listener in server.listeners:
                await listener.close()
