"""Tiltify API v5 webhooks.

Tiltify signs `X-Tiltify-Timestamp + "." + raw body` with HMAC-SHA256, keyed
with the endpoint's Webhook Signing ID, and sends it base64-encoded in
`X-Tiltify-Signature`. The body is `{"data": {...}, "meta": {"event_type": ...}}`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime

from overlay.secret import secret_equal

from .base import (
    Ignored,
    IncomingDonation,
    WebhookResult,
    currency_code,
    provider_amount,
    get_datetime,
    get_header,
    get_id,
    get_object,
    get_str,
    get_text,
    load_json_object,
    parse_rfc3339,
    unauthorized,
    within,
)
from overlay.settings.webhooks import TiltifySettings

TOLERANCE_SECONDS = 300
DONATION_EVENTS = frozenset({
    "public:direct:donation_updated",
    "private:direct:donation_updated",
    "public:indirect:donation_updated",
})


def signature(secret: str, timestamp: str, body: bytes) -> str:
    message = timestamp.encode("utf-8", "surrogatepass") + b"." + body
    digest = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def _verify(headers: Mapping[str, str], body: bytes, secret: str, now: datetime) -> None:
    received = get_header(headers, "X-Tiltify-Signature")
    timestamp = get_header(headers, "X-Tiltify-Timestamp")
    if not received or not timestamp:
        raise unauthorized("missing_signature", "X-Tiltify-Signature and X-Tiltify-Timestamp are required")
    if not secret_equal(received.strip(), signature(secret, timestamp, body)):
        raise unauthorized("invalid_signature", "signature does not match")
    sent_at = parse_rfc3339(timestamp.strip())
    if sent_at is None:
        raise unauthorized("invalid_timestamp", "X-Tiltify-Timestamp is not an RFC 3339 timestamp")
    if not within(sent_at, now, TOLERANCE_SECONDS):
        raise unauthorized("stale_timestamp", "X-Tiltify-Timestamp is more than 5 minutes off")


def parse(headers: Mapping[str, str], body: bytes, settings: TiltifySettings, now: datetime) -> WebhookResult:
    _verify(headers, body, settings.secret, now)
    payload = load_json_object(body)
    meta = get_object(payload, "meta")
    event_type = get_str(meta, "event_type")
    if event_type not in DONATION_EVENTS:
        return Ignored(f"tiltify event type {event_type[:64]!r} is not a donation")
    data = get_object(payload, "data")
    if data.get("completed_at") is None:
        return Ignored("tiltify donation is not completed yet")
    amount = get_object(data, "amount")
    currency = currency_code(amount.get("currency"))
    return IncomingDonation(
        external_id=get_id(data, "id"),
        amount=provider_amount(amount.get("value"), currency),
        currency=currency,
        donor_name=get_text(data, "donor_name"),
        message=get_text(data, "donor_comment"),
        created_at=get_datetime(data, "completed_at", strict=False),
        incentive=_incentive(data),
    )


def _incentive(data: Mapping[str, object]) -> dict[str, str] | None:
    """Tiltify's own poll option, target or reward id, most specific first (a donation makes
    one choice here); matched to an incentive's ``tiltify_id`` when the donation is booked."""
    claims = data.get("reward_claims")
    claimed = claims[0].get("reward_id") if isinstance(claims, list) and claims and isinstance(claims[0], dict) else None
    for value in (data.get("poll_option_id"), data.get("target_id"), data.get("reward_id"), claimed):
        if isinstance(value, str) and 0 < len(value) <= 64:
            return {"tiltify_id": value}
    return None
