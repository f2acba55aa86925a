"""Stripe webhooks for Checkout and Payment Links.

`Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>...][,v0=...]`, where each v1 is
hex HMAC-SHA256(endpoint secret, t + "." + raw body). Several v1 appear while
a secret is being rolled; any one matching is enough. Other schemes are
ignored.

A donation is keyed by the session's `payment_intent` so that a later
`charge.refunded` (a Charge carrying the same `payment_intent`) can find it.
Only full refunds (`refunded: true`) become an IncomingRefund: the app cannot
shrink a donation that alerts and totals have already used, so a partial
refund is Ignored and left to the streamer to settle by hand.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from babel.numbers import get_currency_precision

from overlay.secret import secret_equal
from overlay.intake import stripe_metadata

from .base import (
    Ignored,
    IncomingDonation,
    IncomingRefund,
    WebhookResult,
    bad_body,
    currency_code,
    from_unix,
    get_header,
    get_id,
    get_object,
    get_str,
    load_json_object,
    minor_units_to_decimal,
    unauthorized,
)
from overlay.settings.webhooks import StripeSettings

TOLERANCE_SECONDS = 300
MAX_HEADER_ITEMS = 16
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
# Stripe's API keeps ISK at two decimals (100 = 1 kr) although ISO 4217, and
# so Babel, give it none; see stripe.com/docs/currencies#special-cases.
_STRIPE_EXPONENT_OVERRIDES = {"ISK": 2}


def signature(secret: str, timestamp: str, body: bytes) -> str:
    message = timestamp.encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def _split_header(header: str) -> tuple[str | None, list[str]]:
    timestamps, v1 = [], []
    for item in header.split(","):
        scheme, sep, value = item.strip().partition("=")
        if not sep:
            continue
        if scheme == "t":
            timestamps.append(value)
        elif scheme == "v1":
            v1.append(value)
    return (timestamps[0] if len(timestamps) == 1 else None), v1


def _verify(headers: Mapping[str, str], body: bytes, secret: str, now: datetime) -> None:
    header = get_header(headers, "Stripe-Signature")
    if not header:
        raise unauthorized("missing_signature", "Stripe-Signature header is required")
    # One t, a v1 per secret being rolled, maybe a v0: a few items. Each v1 costs an HMAC.
    if header.count(",") >= MAX_HEADER_ITEMS:
        raise unauthorized("invalid_signature", f"Stripe-Signature holds more than {MAX_HEADER_ITEMS} items")
    timestamp, candidates = _split_header(header)
    if timestamp is None or not _TIMESTAMP.fullmatch(timestamp) or not candidates:
        raise unauthorized("invalid_signature", "Stripe-Signature must hold one t= and at least one v1=")
    expected = signature(secret, timestamp, body)
    if not any(secret_equal(candidate.lower(), expected) for candidate in candidates):
        raise unauthorized("invalid_signature", "no v1 signature matches")
    if abs(now.timestamp() - int(timestamp)) > TOLERANCE_SECONDS:
        raise unauthorized("stale_timestamp", "Stripe-Signature timestamp is more than 5 minutes off")


def _amount(minor: Any, currency: str) -> str:
    exponent = _STRIPE_EXPONENT_OVERRIDES.get(currency, get_currency_precision(currency))
    amount = minor_units_to_decimal(minor, exponent)
    iso_exponent = get_currency_precision(currency)
    if iso_exponent < exponent and amount.endswith("0" * (exponent - iso_exponent)):
        # 150000 ISK minor units -> "1500", not "1500.00" (which the money module would refuse).
        amount = amount[: len(amount) - (exponent - iso_exponent)].rstrip(".")
    return amount


def _message(session: Mapping[str, Any]) -> str | None:
    fields = session.get("custom_fields") or []
    if not isinstance(fields, list):
        raise bad_body("field 'custom_fields' must be a list")
    for field in fields:
        if isinstance(field, dict) and field.get("key") == "message":
            text = field.get("text")
            value = text.get("value") if isinstance(text, dict) else None
            if value is not None and not isinstance(value, str):
                raise bad_body("custom field 'message' must hold text")
            return value if value and value.strip() else None
    return None


def stripe_minor(minor: int, currency: str) -> int:
    """Our minor units -> Stripe's (``unit_amount``): the inverse of ``_amount`` for ISK."""
    return minor * 10 ** (_STRIPE_EXPONENT_OVERRIDES.get(currency, get_currency_precision(currency))
                          - get_currency_precision(currency))


def _donation(event: Mapping[str, Any], session: Mapping[str, Any]) -> IncomingDonation:
    currency = currency_code(session.get("currency"))
    details = get_object(session, "customer_details", required=False) or {}
    name = get_str(details, "name", required=False)
    payment_intent = session.get("payment_intent")
    if payment_intent is not None and not isinstance(payment_intent, str):
        raise bad_body("field 'payment_intent' must be a string")
    ours = stripe_metadata.decode(session.get("metadata"))
    if ours is not None:  # started on our donate page: the donor's own words, never the card holder's name
        name, message = ours.donor_name, ours.message
    else:
        message = _message(session)
    return IncomingDonation(
        external_id=get_id(session, "payment_intent") if payment_intent else get_id(session, "id"),
        amount=_amount(session.get("amount_total"), currency),
        currency=currency,
        donor_name=name if name and name.strip() else None,
        message=message,
        created_at=from_unix(event.get("created")),
        channel=ours.channel if ours else None,
        incentive=ours.incentive if ours else None,
        display_name=ours.display_name if ours else None,
        alias=ours.alias if ours else None,
        show_amount=ours.show_amount if ours else True,
    )


def _refund(charge: Mapping[str, Any]) -> WebhookResult:
    refunded = charge.get("refunded")
    if not isinstance(refunded, bool):
        raise bad_body("field 'refunded' must be a boolean")
    if not refunded:
        return Ignored("partial stripe refund: the donation is kept, settle it by hand")
    if charge.get("payment_intent") is None:
        return Ignored("refunded stripe charge has no payment_intent: not from Checkout")
    return IncomingRefund(external_id=get_id(charge, "payment_intent"))


HANDLED_EVENTS = frozenset({
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "charge.refunded",
})


def parse(headers: Mapping[str, str], body: bytes, settings: StripeSettings, now: datetime) -> WebhookResult:
    _verify(headers, body, settings.secret, now)
    event = load_json_object(body)
    event_type = get_str(event, "type")
    if event_type not in HANDLED_EVENTS:
        return Ignored(f"stripe event type {event_type[:64]!r} is not handled")
    obj = get_object(get_object(event, "data"), "object")
    if event_type == "charge.refunded":
        return _refund(obj)
    if event_type == "checkout.session.completed":
        status = get_str(obj, "payment_status")
        if status != "paid":
            # "unpaid": a delayed method; checkout.session.async_payment_succeeded follows.
            return Ignored(f"checkout session payment_status is {status[:32]!r}, not 'paid'")
    return _donation(event, obj)
