"""A generic signed JSON webhook for anything else (a bot, a shop, a script).

`X-Signature: sha256=<hex HMAC-SHA256(secret, raw body)>` over a JSON body
`{amount, currency?, donor_name?, message?, external_id, created_at?, incentive?,
display_name?, alias?, show_amount?}` (``incentive``: ``{id, option?}``; the display choice as
in the API's donation body; either refused with 4xx like the API's).
There is no timestamp, so a captured delivery can be replayed; that is
harmless because the app stores a `(source, external_id)` only once.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime

from overlay.secret import secret_equal

from .base import (
    IncomingDonation,
    WebhookResult,
    currency_code,
    decimal_string,
    get_datetime,
    get_header,
    get_id,
    get_text,
    load_json_object,
    unauthorized,
)
from overlay.settings.webhooks import GenericSettings

PREFIX = "sha256="


def signature(secret: str, body: bytes) -> str:
    return PREFIX + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def parse(headers: Mapping[str, str], body: bytes, settings: GenericSettings, now: datetime) -> WebhookResult:
    received = get_header(headers, "X-Signature")
    if not received:
        raise unauthorized("missing_signature", "X-Signature header is required")
    if not secret_equal(received.strip().lower(), signature(settings.secret, body)):
        raise unauthorized("invalid_signature", "X-Signature must be sha256=<hex HMAC-SHA256 of the body>")
    payload = load_json_object(body)
    currency = payload.get("currency")
    return IncomingDonation(
        external_id=get_id(payload, "external_id"),
        amount=decimal_string(payload.get("amount")),
        currency=None if currency is None else currency_code(currency),
        donor_name=get_text(payload, "donor_name"),
        message=get_text(payload, "message"),
        created_at=get_datetime(payload, "created_at"),
        incentive=payload.get("incentive"),
        display_name=payload.get("display_name"),
        alias=payload.get("alias"),
        show_amount=payload.get("show_amount", True),
    )
