"""Ko-fi webhooks.

Ko-fi posts `application/x-www-form-urlencoded` with a single field `data`
holding the payment as a JSON string. There is no signature: the JSON carries
the account's `verification_token` in clear, which we compare in constant
time. The payload also carries the supporter's e-mail and, for shop orders,
a shipping address; neither is ever read into a result or an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

from overlay.secret import secret_equal

from .base import (
    Ignored,
    IncomingDonation,
    WebhookResult,
    bad_body,
    currency_code,
    provider_amount,
    get_datetime,
    get_id,
    get_str,
    get_text,
    load_json_object,
    unauthorized,
)
from overlay.settings.webhooks import KofiSettings

KNOWN_TYPES = frozenset({"Donation", "Subscription", "Commission", "Shop Order"})


def _form_data(body: bytes) -> str:
    try:
        text = body.decode("ascii")
        fields = parse_qs(text, keep_blank_values=True, errors="strict", max_num_fields=64)
    except ValueError:  # UnicodeDecodeError included; also too many fields
        raise bad_body("body is not a valid form") from None
    values = fields.get("data")
    if not values or len(values) != 1:
        raise bad_body("form must hold exactly one 'data' field")
    return values[0]


def _check_token(payload: Mapping[str, Any], expected: str) -> None:
    token = payload.get("verification_token")
    if not isinstance(token, str) or not secret_equal(token, expected):
        raise unauthorized("invalid_token", "verification_token does not match")


def parse(headers: Mapping[str, str], body: bytes, settings: KofiSettings, now: datetime) -> WebhookResult:
    payload = load_json_object(_form_data(body))
    _check_token(payload, settings.verification_token)
    kind = get_str(payload, "type")
    if kind not in KNOWN_TYPES:
        return Ignored(f"ko-fi payment type {kind[:32]!r} is unknown")
    if kind not in settings.count_types:
        return Ignored(f"ko-fi payment type {kind!r} is not counted on this channel")
    is_public = payload.get("is_public", False)
    if not isinstance(is_public, bool):
        raise bad_body("field 'is_public' must be a boolean")
    message = get_text(payload, "message")
    currency = currency_code(payload.get("currency"))
    return IncomingDonation(
        external_id=get_id(payload, "message_id"),
        amount=provider_amount(payload.get("amount"), currency),
        currency=currency,
        donor_name=get_text(payload, "from_name"),
        # Ko-fi requires integrations to hide the message of private payments.
        message=message if is_public else None,
        created_at=get_datetime(payload, "timestamp", strict=False),
    )
