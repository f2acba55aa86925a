"""A platform's real delivery, signed as the platform signs it: the dashboard's "Send test event".

Each builder returns the body and headers the platform itself would send for one donation
(the shapes of the platforms' documentation, as tests/fixtures/webhooks/ holds them), signed
with the channel's configured secret at the moment of sending. None of these payloads has a
"test" notion our parsers could trust (Stripe's ``livemode: false`` is also a real test-mode
payment), so the test is marked by our own means: the donation's id starts with ``TEST_PREFIX``.
The id is inside the signed body, so only a holder of the secret can mark a donation as a test;
and no platform's ids (UUIDs, ``pi_...``) take that form.
"""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from overlay.domain import money

from . import generic, stripe, tiltify, twitch
from .health import TEST_HEADER

TEST_PREFIX = "overlay-test-"
DONOR, MESSAGE = "Test donor", "Test event sent from the dashboard"
TEST_UNITS = 5  # the test donation's amount: 5 of the currency's units


@dataclass(frozen=True)
class Sample:
    body: bytes
    headers: dict[str, str]
    external_id: str


def is_test(external_id: str | None) -> bool:
    return bool(external_id) and external_id.startswith(TEST_PREFIX)  # type: ignore[union-attr]


def _rfc3339(now: datetime) -> str:
    return now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _json(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def _minor(currency: str) -> tuple[int, int]:
    exp = money.exponent(currency)
    return TEST_UNITS * 10**exp, exp


def _decimal(currency: str) -> str:
    return money.with_decimals(*_minor(currency))


def build(provider: str, settings: Any, currency: str, now: datetime) -> Sample:
    external_id = TEST_PREFIX + str(uuid.uuid4())
    body, headers = BUILDERS[provider](settings, currency, now, external_id)
    return Sample(body, {**headers, TEST_HEADER: "1"}, external_id)


def _tiltify(settings: Any, currency: str, now: datetime, external_id: str) -> tuple[bytes, dict[str, str]]:
    at = _rfc3339(now)
    body = _json({"data": {
        "amount": {"currency": currency, "value": _decimal(currency)}, "campaign_id": str(uuid.uuid4()),
        "completed_at": at, "created_at": at, "donor_comment": MESSAGE, "donor_name": DONOR,
        "fundraising_event_id": None, "id": external_id, "legacy_id": 0, "poll_id": None, "poll_option_id": None,
        "reward_id": None, "sustained": False, "target_id": None, "team_event_id": None,
    }, "meta": {"attempted_at": at, "event_type": "public:direct:donation_updated", "generated_at": at,
                "id": str(uuid.uuid4()), "subscription_source_type": "Campaign"}})
    return body, {"Content-Type": "application/json", "X-Tiltify-Timestamp": at,
                  "X-Tiltify-Signature": tiltify.signature(settings.secret, at, body)}


def _kofi(settings: Any, currency: str, now: datetime, external_id: str) -> tuple[bytes, dict[str, str]]:
    kind = "Donation" if "Donation" in settings.count_types else settings.count_types[0]
    payload = {
        "verification_token": settings.verification_token, "message_id": external_id,
        "timestamp": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "type": kind, "is_public": True, "from_name": DONOR,
        "message": MESSAGE, "amount": _decimal(currency), "url": "https://ko-fi.com/", "email": None,
        "currency": currency, "is_subscription_payment": kind == "Subscription",
        "is_first_subscription_payment": False, "kofi_transaction_id": external_id, "shop_items": None,
        "tier_name": None, "shipping": None,
    }
    body = urlencode({"data": json.dumps(payload)}).encode("ascii")
    return body, {"Content-Type": "application/x-www-form-urlencoded"}


def _stripe(settings: Any, currency: str, now: datetime, external_id: str) -> tuple[bytes, dict[str, str]]:
    t = str(int(now.timestamp()))
    session = {
        "id": "cs_" + external_id, "object": "checkout.session", "amount_subtotal": None,
        "amount_total": stripe.stripe_minor(_minor(currency)[0], currency), "currency": currency.lower(),
        "custom_fields": [{"key": "message", "type": "text", "text": {"value": MESSAGE}}],
        "customer_details": {"name": DONOR, "email": None}, "livemode": False, "metadata": {}, "mode": "payment",
        "payment_intent": external_id, "payment_status": "paid", "status": "complete", "submit_type": "donate",
    }
    session["amount_subtotal"] = session["amount_total"]
    body = _json({"id": "evt_" + uuid.uuid4().hex, "object": "event", "api_version": "2024-06-20",
                  "created": int(t), "data": {"object": session}, "livemode": False, "pending_webhooks": 1,
                  "request": {"id": None, "idempotency_key": None}, "type": "checkout.session.completed"})
    return body, {"Content-Type": "application/json",
                  "Stripe-Signature": f"t={t},v1={stripe.signature(settings.secret, t, body)}"}


def _generic(settings: Any, currency: str, now: datetime, external_id: str) -> tuple[bytes, dict[str, str]]:
    body = _json({"external_id": external_id, "amount": _decimal(currency), "currency": currency,
                  "donor_name": DONOR, "message": MESSAGE, "created_at": _rfc3339(now)})
    return body, {"Content-Type": "application/json", "X-Signature": generic.signature(settings.secret, body)}


def _twitch(settings: Any, currency: str, now: datetime, external_id: str) -> tuple[bytes, dict[str, str]]:
    value, places = _minor(currency)
    at, message_id = _rfc3339(now), str(uuid.uuid4())
    body = _json({"subscription": {
        "id": str(uuid.uuid4()), "type": twitch.CHARITY_DONATION, "version": "1", "status": "enabled", "cost": 0,
        "condition": {"broadcaster_user_id": "0"}, "transport": {"method": "webhook", "callback": ""},
        "created_at": at,
    }, "event": {
        "id": external_id, "campaign_id": str(uuid.uuid4()), "broadcaster_user_id": "0",
        "broadcaster_user_name": "", "broadcaster_user_login": "", "user_id": "0", "user_login": "testdonor",
        "user_name": DONOR, "charity_name": "", "charity_description": "", "charity_logo": "",
        "charity_website": "", "amount": {"value": value, "decimal_places": places, "currency": currency},
    }})
    return body, {
        "Content-Type": "application/json", "Twitch-Eventsub-Message-Id": message_id,
        "Twitch-Eventsub-Message-Retry": "0", "Twitch-Eventsub-Message-Type": "notification",
        "Twitch-Eventsub-Message-Signature": twitch.signature(settings.secret, message_id, at, body),
        "Twitch-Eventsub-Message-Timestamp": at, "Twitch-Eventsub-Subscription-Type": twitch.CHARITY_DONATION,
        "Twitch-Eventsub-Subscription-Version": "1",
    }


BUILDERS = {"tiltify": _tiltify, "kofi": _kofi, "stripe": _stripe, "generic": _generic, "twitch": _twitch}
