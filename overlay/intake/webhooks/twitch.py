"""Twitch EventSub over the webhook transport.

Twitch signs ``Twitch-Eventsub-Message-Id + Twitch-Eventsub-Message-Timestamp + raw body``
with HMAC-SHA256, keyed with the secret given when the subscription was created, and sends
``sha256=<hex>`` in ``Twitch-Eventsub-Message-Signature``. Three message types
(``Twitch-Eventsub-Message-Type``): ``webhook_callback_verification`` (answer the raw
``challenge``), ``notification`` (the event) and ``revocation`` (the subscription ended).
Charity donations (``channel.charity_campaign.donate``) count; bits (``channel.cheer``) only
when ``webhooks.twitch.cheer`` gives their value; other subscription types are ignored.

Every refusal of the signature or the timestamp is 403, as Twitch's own examples answer.
The message id, timestamp and body are signed; the type headers are not, so the
subscription type is read from the signed body, and each message type must have the
body its type has (a notification's body cannot be passed off as a challenge).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_DOWN, Decimal
from typing import Any

from overlay.domain import money

from overlay.secret import secret_equal

from .base import (
    MAX_ID_LENGTH,
    Ignored,
    IncomingDonation,
    WebhookError,
    bad_body,
    currency_code,
    get_header,
    get_id,
    get_object,
    get_str,
    get_text,
    invalid_amount,
    load_json_object,
    minor_units_to_decimal,
    parse_rfc3339,
    provider_amount,
    within,
)
from overlay.settings.webhooks import TwitchCheerSettings, TwitchSettings

PREFIX = "sha256="
# Twitch: "make sure the value in the timestamp field isn't older than 10 minutes".
TOLERANCE_SECONDS = 600
CHARITY_DONATION = "channel.charity_campaign.donate"
CHEER = "channel.cheer"
BITS_SOURCE = "twitch_bits"
MAX_BITS = 10**9
MAX_DECIMAL_PLACES = 8
MAX_CHALLENGE_LENGTH = 1024


@dataclass(frozen=True)
class Challenge:
    subscription_type: str
    text: str


@dataclass(frozen=True)
class Revocation:
    subscription_type: str
    status: str  # authorization_revoked, user_removed, notification_failures_exceeded, version_removed


@dataclass(frozen=True)
class TwitchDelivery:
    """One verified message: ``outcome`` says what to do, ``message_id`` what to de-duplicate by."""
    message_id: str
    outcome: Challenge | Revocation | IncomingDonation | Ignored


def signature(secret: str, message_id: str, timestamp: str, body: bytes) -> str:
    message = (message_id + timestamp).encode("utf-8", "surrogatepass") + body
    return PREFIX + hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def forbidden(code: str, message: str) -> WebhookError:
    return WebhookError(403, code, message)


def _verify(headers: Mapping[str, str], body: bytes, secret: str, now: datetime) -> str:
    message_id = get_header(headers, "Twitch-Eventsub-Message-Id")
    timestamp = get_header(headers, "Twitch-Eventsub-Message-Timestamp")
    received = get_header(headers, "Twitch-Eventsub-Message-Signature")
    if not message_id or not timestamp or not received:
        raise forbidden("missing_signature", "the Twitch-Eventsub-Message-Id, -Timestamp and -Signature "
                                             "headers are required")
    if not secret_equal(received.strip().lower(), signature(secret, message_id, timestamp, body)):
        raise forbidden("invalid_signature", "signature does not match")
    sent_at = parse_rfc3339(timestamp.strip())
    if sent_at is None:
        raise forbidden("invalid_timestamp", "Twitch-Eventsub-Message-Timestamp is not an RFC 3339 timestamp")
    if not within(sent_at, now, TOLERANCE_SECONDS):
        raise forbidden("stale_timestamp", "Twitch-Eventsub-Message-Timestamp is more than 10 minutes off")
    if len(message_id) > MAX_ID_LENGTH:
        raise bad_body(f"Twitch-Eventsub-Message-Id is longer than {MAX_ID_LENGTH} characters")
    return message_id


def parse(headers: Mapping[str, str], body: bytes, settings: TwitchSettings, now: datetime) -> TwitchDelivery:
    message_id = _verify(headers, body, settings.secret, now)
    message_type = get_header(headers, "Twitch-Eventsub-Message-Type")
    payload = load_json_object(body)
    subscription = get_object(payload, "subscription")
    assert subscription is not None
    subscription_type = get_str(subscription, "type") or ""
    if message_type == "webhook_callback_verification":
        challenge = get_str(payload, "challenge") or ""
        if not challenge or len(challenge) > MAX_CHALLENGE_LENGTH:
            raise bad_body(f"field 'challenge' must be a non-empty string of at most {MAX_CHALLENGE_LENGTH}")
        return TwitchDelivery(message_id, Challenge(subscription_type[:64], challenge))
    if message_type == "revocation":
        if "event" in payload or "challenge" in payload:
            raise bad_body("a revocation carries neither 'event' nor 'challenge'")
        status = get_str(subscription, "status") or ""
        return TwitchDelivery(message_id, Revocation(subscription_type[:64], status[:64]))
    if message_type == "notification":
        event = get_object(payload, "event")
        assert event is not None
        if subscription_type == CHEER:
            return TwitchDelivery(message_id, _cheer(event, settings.cheer, message_id))
        return TwitchDelivery(message_id, _notification(subscription_type, event))
    # A message type Twitch adds later: acknowledged, so it is not resent for nothing.
    return TwitchDelivery(message_id, Ignored(f"twitch message type {str(message_type)[:64]!r} is not handled"))


def _notification(subscription_type: str, event: Mapping[str, Any]) -> IncomingDonation | Ignored:
    if subscription_type != CHARITY_DONATION:
        return Ignored(f"twitch subscription type {subscription_type[:64]!r} is not a donation")
    amount = get_object(event, "amount")
    assert amount is not None
    currency = currency_code(amount.get("currency"))
    places = amount.get("decimal_places")
    if not isinstance(places, int) or isinstance(places, bool) or not 0 <= places <= MAX_DECIMAL_PLACES:
        raise bad_body(f"field 'decimal_places' must be an integer from 0 to {MAX_DECIMAL_PLACES}")
    # The charity event has no message; user_name is the donor's display name.
    user_name = get_str(event, "user_name")
    return IncomingDonation(
        external_id=get_id(event, "id"),
        amount=provider_amount(minor_units_to_decimal(amount.get("value"), places), currency),
        currency=currency,
        donor_name=(user_name or "").strip() or get_str(event, "user_login", required=False) or None,
        message=None,
        created_at=None,
    )


def _cheer(event: Mapping[str, Any], cheer: TwitchCheerSettings | None, message_id: str) -> IncomingDonation | Ignored:
    """Bits at ``value_per_bit`` each, rounded down to the currency's minor unit. The event has
    no id of its own: the message id is the idempotency key (Twitch resends under it)."""
    if cheer is None:
        return Ignored("bits are not counted (webhooks.twitch.cheer is not set)")
    bits = event.get("bits")
    if not isinstance(bits, int) or isinstance(bits, bool) or not 0 < bits <= MAX_BITS:
        raise invalid_amount()
    places = money.exponent(cheer.currency) if cheer.currency in money.known_currencies() else 2
    value = (Decimal(cheer.value_per_bit) * bits).quantize(Decimal(1).scaleb(-places), rounding=ROUND_DOWN)
    if not value:
        return Ignored("the bits are worth less than the currency's smallest unit")
    anonymous = event.get("is_anonymous") is True
    return IncomingDonation(
        external_id=message_id, amount=format(value, "f"), currency=cheer.currency,
        donor_name=None if anonymous else get_text(event, "user_name"),
        message=get_text(event, "message"), created_at=None, source=BITS_SOURCE,
    )
