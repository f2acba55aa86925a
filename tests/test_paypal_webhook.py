"""POST /webhooks/{ch}/paypal end to end: the real server on both backends, a fake PayPal.

The fake signs as PayPal does: SHA256withRSA over ``transmission id|transmission time|webhook
id|crc32(body)``, with the key of a certificate it serves over loopback HTTP at a
``/v1/notifications/certs/CERT-…`` path like PayPal's. The payloads are PayPal's documented
samples (tests/fixtures/webhooks/paypal_*.json). The server is told, through
``webhooks.paypal.cert_hosts``, that the fake's origin is where certificates come from; a
second fake stands for an attacker's host and must never see a request.
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
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from overlay.app import create_app
from overlay.config import ConfigError, parse_config
from tests.conftest import Running
from tests.support import channel_dict, free_port, make_config
from tests.webhook_signing import paypal_headers
# logs and own_redis are fixtures
from tests.test_webhooks_e2e import (PersistentRedis, body, campaign, donations, fixture, logs,  # noqa: F401
                                     own_redis, stored_text)

WEBHOOK_ID = "1JE4291016473214C"
CAPTURE_ID = "27M47624FP291604U"
CERT_PATH = "/v1/notifications/certs/CERT-360caa42-fca2a594-a5cafa77"
_ids = itertools.count(1)


def certificate(key: rsa.RSAPrivateKey, *, days: int = 30, valid_from_days: int = -1) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "messageverificationcerts.paypal.test")])
    start = datetime.now(timezone.utc) + timedelta(days=valid_from_days)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(start)
            .not_valid_after(start + timedelta(days=days)).sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM)


def paypal_time(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class FakePayPal:
    """Serves its signing certificates and signs deliveries with their keys; records every request."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.certs = {CERT_PATH: certificate(self.key)}
        self.requests: list[str] = []
        self.redirect_to = ""
        self.origin = ""  # set once started
        self.app = web.Application()
        self.app.router.add_get("/{path:.*}", self.serve)

    async def serve(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(request.path)
        if request.path.endswith("/CERT-redirect"):
            raise web.HTTPFound(self.redirect_to)
        pem = self.certs.get(request.path)
        return web.Response(body=pem, content_type="application/x-pem-file") if pem else web.Response(status=404)

    async def start(self, aiohttp_server: Any) -> FakePayPal:
        server = await aiohttp_server(self.app, host="127.0.0.1")
        self.origin = str(server.make_url("")).rstrip("/")
        return self

    def sign(self, payload: Any, *, sent: datetime | None = None, key: rsa.RSAPrivateKey | None = None,
             webhook_id: str = WEBHOOK_ID, cert_url: str | None = None,
             transmission_id: str | None = None) -> tuple[bytes, dict[str, str]]:
        raw = payload if isinstance(payload, bytes) else body(payload)
        transmission_id = transmission_id or f"69cd13f0-d67a-11e5-baa3-{next(_ids):012d}"
        return raw, paypal_headers(raw, key or self.key, webhook_id, cert_url or self.origin + CERT_PATH,
                                   transmission_id, paypal_time(sent or datetime.now(timezone.utc)))


async def send(server: Any, signed: tuple[bytes, dict[str, str]]) -> tuple[int, Any]:
    raw, headers = signed
    return await server.post("/webhooks/demo/paypal", headers=headers, data=raw)


def capture(capture_id: str = CAPTURE_ID, value: str = "25.00", currency: str = "USD") -> dict[str, Any]:
    event = fixture("paypal_capture_completed.json")
    event["resource"].update(id=capture_id, amount={"currency_code": currency, "value": value})
    return event


def refund(capture_id: str = CAPTURE_ID, value: str = "25.00", currency: str = "USD",
           event_type: str = "PAYMENT.CAPTURE.REFUNDED") -> dict[str, Any]:
    event = fixture("paypal_capture_refunded.json")
    resource = event["resource"]
    event["event_type"] = event_type
    resource["amount"] = {"currency_code": currency, "value": value}
    resource["seller_payable_breakdown"]["total_refunded_amount"] = {"currency_code": currency, "value": value}
    resource["links"][1]["href"] = f"https://api.paypal.com/v2/payments/captures/{capture_id}"
    return event


@pytest.fixture
async def paypal(aiohttp_server: Any) -> FakePayPal:
    return await FakePayPal().start(aiohttp_server)


@pytest.fixture
async def hooked(make_server: Any, backend: str, paypal: FakePayPal) -> Any:
    return await make_server(backend, webhooks={"paypal": {"webhook_id": WEBHOOK_ID, "cert_hosts": [paypal.origin]}})


def refusals(logs: Any) -> list[logging.LogRecord]:
    return [r for r in logs.records if r.name == "overlay.intake.webhooks.routes" and "refused" in r.getMessage()]


# -- a completed capture: one donation, whatever PayPal resends ------------------------------------

async def test_a_completed_capture_is_converted_pushed_and_counted_once(hooked: Any, paypal: FakePayPal) -> None:
    overlay = await hooked.listen()
    await overlay.wait_for("state")
    first = paypal.sign(capture())
    status, answer = await send(hooked, first)
    assert status == 200 and answer["ok"] is True and answer["duplicate"] is False, answer
    d = (await overlay.wait_for("donation"))["donation"]
    assert (d["id"], d["source"], d["external_id"]) == (answer["donation_id"], "paypal", CAPTURE_ID)
    assert (d["amount"], d["original_amount"], d["original_currency"], d["matched"]) == ("23.00", "25.00", "USD", "23.00")
    assert (d["donor_name"], d["message"]) == (None, None)

    # The same transmission again: acknowledged, nothing done.
    assert await send(hooked, first) == (200, {"ok": True, "duplicate": True})
    # The same capture in another transmission: its capture id stops it.
    status, again = await send(hooked, paypal.sign(capture()))
    assert (status, again["donation_id"], again["duplicate"]) == (200, answer["donation_id"], True)

    status, later = await send(hooked, paypal.sign(capture("9KS47061JT4406340", "10.00", "EUR")))
    assert status == 200 and later["duplicate"] is False
    await overlay.wait_for("donation", lambda e: e["donation"]["external_id"] == "9KS47061JT4406340")
    assert [e["donation"]["external_id"] for e in overlay.of("donation")] == [CAPTURE_ID, "9KS47061JT4406340"]
    c = await campaign(hooked)
    assert (c["count"], c["raised"], c["matched"]) == (2, "33.00", "33.00")
    # The certificate was fetched once and kept.
    assert paypal.requests == [CERT_PATH]
    status, listed = await hooked.request("GET", "/api/v1/channels/demo/integrations")
    source = next(i for i in listed["integrations"] if i["provider"] == "paypal")
    assert source["configured"] is True and source["url"].endswith("/webhooks/demo/paypal")


async def test_storage_down_is_503_and_the_same_transmission_then_counts(
        aiohttp_server: Any, tmp_path: Path, own_redis: PersistentRedis, paypal: FakePayPal) -> None:
    config = make_config(tmp_path / "data", own_redis.url,
                         webhooks={"paypal": {"webhook_id": WEBHOOK_ID, "cert_hosts": [paypal.origin]}})
    app_server = await aiohttp_server(create_app(config), host="127.0.0.1")
    async with aiohttp.ClientSession() as http:
        server = Running(str(app_server.make_url("")).rstrip("/"), config, http, [])
        delivery = paypal.sign(capture())
        own_redis.stop()
        status, answer = await send(server, delivery)
        assert (status, answer["error"]["code"]) == (503, "storage_unavailable")
        own_redis.start()
        status, answer = await send(server, delivery)
        assert status == 200 and answer["duplicate"] is False
        assert await send(server, delivery) == (200, {"ok": True, "duplicate": True})
        assert (await campaign(server))["count"] == 1


async def test_a_refund_takes_the_donation_and_its_match_back_out(hooked: Any, paypal: FakePayPal) -> None:
    overlay = await hooked.listen()
    await overlay.wait_for("state")
    status, kept = await send(hooked, paypal.sign(capture("KEPT0001", "10.00", "EUR")))
    assert status == 200
    status, answer = await send(hooked, paypal.sign(capture()))
    assert status == 200
    c = await campaign(hooked)
    assert (c["count"], c["raised"], c["match_used"]) == (2, "33.00", "33.00")

    # A partial refund is acknowledged and changes nothing (as Stripe's).
    status, partial = await send(hooked, paypal.sign(refund(value="5.00")))
    assert status == 200 and "partial" in partial["ignored"]
    assert await campaign(hooked) == c

    full = paypal.sign(refund())
    status, refunded = await send(hooked, full)
    assert (status, refunded) == (200, {"ok": True, "refunded": answer["donation_id"]})
    await overlay.wait_for("progress", lambda e: e["campaign"]["raised"] == "10.00")
    c = await campaign(hooked)
    assert (c["count"], c["raised"], c["matched"], c["match_used"]) == (1, "10.00", "10.00", "10.00")
    rows = {d["id"]: d["status"] for d in await donations(hooked)}
    assert rows == {answer["donation_id"]: "refunded", kept["donation_id"]: "approved"}

    # Replayed, sent again under a new transmission, a reversal after it: nothing moves.
    assert await send(hooked, full) == (200, {"ok": True, "duplicate": True})
    assert (await send(hooked, paypal.sign(refund())))[0] == 200
    assert (await send(hooked, paypal.sign(refund(event_type="PAYMENT.CAPTURE.REVERSED"))))[0] == 200
    status, unknown = await send(hooked, paypal.sign(refund("NEVERSEEN1")))
    assert (status, unknown) == (200, {"ok": True, "refunded": None})
    assert await campaign(hooked) == c

    # A reversal (chargeback) takes the whole capture, whatever its amount says.
    status, reversed_ = await send(hooked, paypal.sign(refund("KEPT0001", "1.00", "EUR", "PAYMENT.CAPTURE.REVERSED")))
    assert (status, reversed_["refunded"]) == (200, kept["donation_id"])
    c = await campaign(hooked)
    assert (c["count"], c["raised"], c["match_used"]) == (0, "0.00", "0.00")


# -- refusals: 401 before anything is read, nothing stored ----------------------------------------

async def test_forged_tampered_stale_and_unsigned_deliveries_are_refused(hooked: Any, paypal: FakePayPal,
                                                                        logs: Any) -> None:
    event = capture()
    raw, headers = paypal.sign(event)
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.now(timezone.utc)
    cases = [
        (paypal.sign(event, key=other_key), "invalid_signature"),
        ((raw.replace(b"25.00", b"99.00"), headers), "invalid_signature"),
        ((raw, headers | {"PAYPAL-TRANSMISSION-ID": "another-transmission"}), "invalid_signature"),
        (paypal.sign(event, webhook_id="8PT597110X687430LKGECATA"), "invalid_signature"),
        ((raw, headers | {"PAYPAL-TRANSMISSION-SIG": "not base64!"}), "invalid_signature"),
        ((raw, headers | {"PAYPAL-AUTH-ALGO": "SHA1withRSA"}), "invalid_signature"),
        ((raw, {k: v for k, v in headers.items() if k != "PAYPAL-TRANSMISSION-SIG"}), "missing_signature"),
        ((raw, {k: v for k, v in headers.items() if k != "PAYPAL-CERT-URL"}), "missing_signature"),
        (paypal.sign(event, sent=now - timedelta(minutes=11)), "stale_timestamp"),
        (paypal.sign(event, sent=now + timedelta(minutes=11)), "stale_timestamp"),
        ((raw, headers | {"PAYPAL-TRANSMISSION-TIME": "yesterday"}), "invalid_timestamp"),
    ]
    for signed, code in cases:
        status, answer = await send(hooked, signed)
        assert (status, answer["error"]["code"]) == (401, code), (code, answer)
    assert (await campaign(hooked))["count"] == 0 and await donations(hooked) == []
    assert CAPTURE_ID not in stored_text(hooked)
    assert len(refusals(logs)) == len(cases)
    # Stale and unsigned deliveries were refused before any certificate was fetched.
    assert paypal.requests == [CERT_PATH]

    # A refused transmission was not remembered: PayPal's genuine one still counts.
    status, answer = await send(hooked, (raw, headers))
    assert status == 200 and answer["duplicate"] is False


async def test_a_certificate_url_on_a_host_not_allowed_is_never_requested(
        hooked: Any, paypal: FakePayPal, aiohttp_server: Any) -> None:
    attacker = await FakePayPal().start(aiohttp_server)
    event = capture()
    for url in (attacker.origin + CERT_PATH,  # signed with the attacker's key, served by the attacker
                "https://api.paypal.com.attacker.example" + CERT_PATH,
                paypal.origin.replace("http://", "https://") + CERT_PATH,  # the allowed host, another scheme
                "http://user@" + paypal.origin.removeprefix("http://") + CERT_PATH,
                paypal.origin + "/v1/oauth2/token",  # the allowed host, but not a certificate
                paypal.origin + "/v1/notifications/certs/../../oauth2/token",
                paypal.origin + CERT_PATH + "?next=/v1/oauth2/token",
                paypal.origin.replace("127.0.0.1", "127.0.0.1.nip.io") + CERT_PATH,
                "file:///etc/passwd"):
        status, answer = await send(hooked, attacker.sign(event, cert_url=url))
        assert (status, answer["error"]["code"]) == (401, "certificate_not_allowed"), url
    assert (await campaign(hooked))["count"] == 0
    # A redirect from the allowed host is not followed to the attacker.
    paypal.redirect_to = attacker.origin + CERT_PATH
    status, answer = await send(hooked, attacker.sign(event, cert_url=paypal.origin + "/v1/notifications/certs/CERT-redirect"))
    assert (status, answer["error"]["code"]) == (401, "invalid_certificate")
    assert attacker.requests == [] and paypal.requests == ["/v1/notifications/certs/CERT-redirect"]
    # Each was a forged delivery, counted against the sender's address: after 10, the next is refused.
    status, answer = await send(hooked, attacker.sign(event, cert_url=attacker.origin + CERT_PATH))
    assert (status, answer["error"]["code"]) == (429, "too_many_failures")
    assert attacker.requests == []


async def test_an_expired_or_missing_certificate_is_refused(make_server: Any, paypal: FakePayPal) -> None:
    server = await make_server("embedded", webhooks={"paypal": {"webhook_id": WEBHOOK_ID,
                                                                "cert_hosts": [paypal.origin]}})
    paypal.certs["/v1/notifications/certs/CERT-expired"] = certificate(paypal.key, days=1, valid_from_days=-3)
    signed = paypal.sign(capture(), cert_url=paypal.origin + "/v1/notifications/certs/CERT-expired")
    status, answer = await send(server, signed)
    assert (status, answer["error"]["code"]) == (401, "certificate_expired")
    status, answer = await send(server, paypal.sign(capture(), cert_url=paypal.origin + "/v1/notifications/certs/nope"))
    assert (status, answer["error"]["code"]) == (401, "invalid_certificate")
    assert (await campaign(server))["count"] == 0


async def test_a_certificate_host_that_cannot_be_reached_is_503_so_paypal_retries(make_server: Any,
                                                                                  paypal: FakePayPal) -> None:
    down = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    server = await make_server("embedded", webhooks={"paypal": {"webhook_id": WEBHOOK_ID,
                                                                "cert_hosts": [paypal.origin, down]}})
    raw, headers = paypal.sign(capture(), cert_url=down + CERT_PATH)
    async with server.http.post(server.url + "/webhooks/demo/paypal", data=raw, headers=headers) as r:
        assert r.status == 503 and r.headers["Retry-After"].isdigit()
        assert (await r.json())["error"]["code"] == "certificate_unavailable"
    # Not remembered: the same transmission, once its certificate can be had, counts.
    status, answer = await send(server, (raw, headers | {"PAYPAL-CERT-URL": paypal.origin + CERT_PATH}))
    assert status == 200 and answer["duplicate"] is False


# -- bodies: a missing field is 400, an unknown currency acknowledged ------------------------------

async def test_a_missing_field_is_400_and_an_unknown_currency_is_acknowledged(hooked: Any, paypal: FakePayPal,
                                                                              logs: Any) -> None:
    incomplete = []
    for path in (("resource", "amount"), ("resource", "id"), ("resource", "amount", "value"),
                 ("resource", "amount", "currency_code"), ("resource",), ("event_type",)):
        event = capture()
        parent = event
        for key in path[:-1]:
            parent = parent[key]
        del parent[path[-1]]
        incomplete.append(event)
    no_link = refund()
    no_link["resource"]["links"] = no_link["resource"]["links"][:1]
    incomplete.append(no_link)
    for event in incomplete:
        status, answer = await send(hooked, paypal.sign(event))
        assert status == 400 and answer["error"]["code"] in {"invalid_body", "invalid_amount", "invalid_currency"}, \
            answer
    assert len(refusals(logs)) == len(incomplete)

    cad = paypal.sign(capture("CAD00001", "30.00", "CAD"))
    status, answer = await send(hooked, cad)
    assert status == 200 and answer["refused"]["code"] == "unsupported_currency"
    errors = [r for r in logs.records if r.name == "overlay.intake.webhooks.routes" and r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert await send(hooked, cad) == (200, {"ok": True, "duplicate": True})
    assert len([r for r in logs.records if r.levelno == logging.ERROR]) == 1

    pending = capture("PENDING01")
    pending["resource"]["status"] = "PENDING"
    other = copy.deepcopy(capture("ORDER0001")) | {"event_type": "CHECKOUT.ORDER.APPROVED"}
    for event in (pending, other):
        status, answer = await send(hooked, paypal.sign(event))
        assert status == 200 and "ignored" in answer
    assert (await campaign(hooked))["count"] == 0 and await donations(hooked) == []


# -- config --------------------------------------------------------------------------------------

@pytest.mark.parametrize("paypal_settings,expected", [
    ({}, "channels[0].webhooks.paypal.webhook_id: "),
    ({"webhook_id": "WH-not-an-id"}, "channels[0].webhooks.paypal.webhook_id: String should match"),
    ({"webhook_id": WEBHOOK_ID, "cert_hosts": ["https://x/y?z"]}, "channels[0].webhooks.paypal.cert_hosts: "),
    ({"webhook_id": WEBHOOK_ID, "cert_hosts": []}, "channels[0].webhooks.paypal.cert_hosts: "),
    ({"webhook_id": WEBHOOK_ID, "cert_hosts": ["127.0.0.1:99999"]}, "channels[0].webhooks.paypal.cert_hosts: "),
])
def test_the_paypal_settings_are_checked(paypal_settings: dict[str, Any], expected: str) -> None:
    with pytest.raises(ConfigError) as exc:
        parse_config({"channels": [channel_dict(webhooks={"paypal": paypal_settings})]}, env={})
    assert any(p.startswith(expected) for p in exc.value.problems), exc.value.problems


def test_by_default_certificates_come_from_paypals_api_hosts_over_https() -> None:
    from overlay.intake.webhooks.paypal import allowed_cert_url
    from overlay.settings.webhooks import PayPalSettings

    hosts = PayPalSettings(webhook_id=WEBHOOK_ID).cert_hosts
    assert allowed_cert_url("https://api.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-a5cafa77", hosts)
    assert allowed_cert_url("https://api.sandbox.paypal.com/v1/notifications/certs/CERT-1", hosts)
    for url in ("http://api.paypal.com/v1/notifications/certs/CERT-1", "https://api.paypal.com:8443" + CERT_PATH,
                "https://paypal.com.evil.example" + CERT_PATH, "https://127.0.0.1" + CERT_PATH,
                "https://[::1]" + CERT_PATH, "https://api.paypal.com/v1/oauth2/token"):
        assert not allowed_cert_url(url, hosts), url


# -- the pure reader: whatever the bytes, a WebhookError or a result ------------------------------

def test_wrong_types_and_random_bytes_only_raise_webhook_error() -> None:
    import random

    from overlay.intake.webhooks import WebhookError
    from overlay.intake.webhooks.paypal import read_event

    rng = random.Random(7)
    values: list[Any] = [None, 1, -1, 1.5, True, "", "x", [], {}, [{}], {"rel": "up"}, "1e400", "-5", "NaN"]
    for template in (capture(), refund()):
        for path in (("resource",), ("resource", "amount"), ("resource", "amount", "value"),
                     ("resource", "amount", "currency_code"), ("resource", "id"), ("resource", "links"),
                     ("resource", "status"), ("resource", "seller_payable_breakdown"), ("event_type",)):
            for value in values:
                event = copy.deepcopy(template)
                parent = event
                for key in path[:-1]:
                    parent = parent[key]
                parent[path[-1]] = value
                try:
                    read_event(body(event))
                except WebhookError as error:
                    assert 400 <= error.status < 500
    for _ in range(200):
        try:
            read_event(bytes(rng.randrange(256) for _ in range(rng.randrange(64))))
        except WebhookError as error:
            assert error.status == 400


async def test_send_test_event_says_a_paypal_delivery_cannot_be_signed_here(hooked: Any) -> None:
    """PayPal signs with its own private key: the dashboard's test button answers 409, never a 500."""
    status, answer = await hooked.post("/api/v1/channels/demo/integrations/paypal/test", {})
    assert status == 409 and answer["error"]["code"] == "test_event_unavailable", answer
    status, state = await hooked.request("GET", "/api/v1/channels/demo/state")
    assert state["campaign"]["count"] == 0
