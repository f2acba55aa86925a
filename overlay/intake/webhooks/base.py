"""Result types, the error type and the strict readers every provider shares.

Everything here is pure: bytes and headers in, a result object or a
WebhookError out. No other exception may escape a parser, whatever the bytes.
Error messages are fixed strings: they never echo a value from the request,
so they cannot leak a secret, a token or a donor's e-mail.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from overlay.domain import money
from overlay.errors import ApiError
from overlay.http import strictjson

MAX_ID_LENGTH = 255
# Amounts are checked again by the money module; this only keeps absurd
# magnitudes (e.g. 1e400) from ever being turned into a 400-digit string.
MAX_AMOUNT_INTEGER_DIGITS = 15
MAX_AMOUNT_LENGTH = 40

_CURRENCY = re.compile(r"[A-Za-z]{3}")
_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?"
    r"(?:[Zz]|[+-][0-9]{2}:[0-9]{2})"
)


@dataclass(frozen=True)
class IncomingDonation:
    external_id: str
    amount: str  # plain decimal string as sent ("12.50"); never a float
    currency: str | None  # upper-case ISO 4217; None = the channel's currency
    donor_name: str | None
    message: str | None
    created_at: datetime | None
    # A payment started on our donate page (Stripe Checkout) names its channel.
    channel: str | None = None
    # {id, option?} (generic, Stripe Checkout metadata), or a platform's own id ({"tiltify_id": ...},
    # {"donordrive_id": ...}): checked by overlay.domain.incentives
    incentive: Any = None
    # The donation's `source` when not the provider's name (Twitch bits: "twitch_bits").
    source: str | None = None
    # The donor's display choice as sent (generic webhook); checked by overlay.domain.display
    display_name: Any = None
    alias: Any = None
    show_amount: Any = True


@dataclass(frozen=True)
class IncomingRefund:
    external_id: str


@dataclass(frozen=True)
class Ignored:
    reason: str


WebhookResult = IncomingDonation | IncomingRefund | Ignored


# The one error type (overlay/errors.py), under the name the parsers' callers know.
WebhookError = ApiError


def bad_body(message: str) -> WebhookError:
    return WebhookError(400, "invalid_body", message)


def unauthorized(code: str, message: str) -> WebhookError:
    return WebhookError(401, code, message)


# The refusals that mean a wrong signature or secret: a guess, counted per client address
# (overlay.http.throttle). Not a missing one, nor a stale timestamp (a delayed or replayed
# delivery signed with the right secret): a platform's retries are never counted. PayPal: a
# certificate address PayPal would never send, or one that holds no certificate, is forged too.
BAD_CREDENTIAL = frozenset({"invalid_signature", "invalid_token", "certificate_not_allowed", "invalid_certificate"})


# -- headers and signatures ------------------------------------------------

def get_header(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive even when handed a plain dict (tests, other servers)."""
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), None)
    return value if isinstance(value, str) else None


# -- JSON ------------------------------------------------------------------

def load_json_object(raw: bytes | str) -> dict[str, Any]:
    """Strict JSON (overlay.http.strictjson): UTF-8 only, an object on top."""
    try:
        return strictjson.load_object(raw.decode("utf-8") if isinstance(raw, bytes) else raw)
    except strictjson.NotAnObject:
        raise bad_body("body is not a JSON object") from None
    except ValueError:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise bad_body("body is not valid UTF-8 JSON") from None


def get_object(obj: Mapping[str, Any], key: str, *, required: bool = True) -> dict[str, Any] | None:
    value = obj.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, dict):
        raise bad_body(f"field {key!r} must be an object")
    return value


def get_str(obj: Mapping[str, Any], key: str, *, required: bool = True) -> str | None:
    value = obj.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise bad_body(f"field {key!r} must be a string")
    return value


def get_text(obj: Mapping[str, Any], key: str) -> str | None:
    """An optional display text: missing, null or blank all mean None."""
    value = get_str(obj, key, required=False)
    return value if value and value.strip() else None


def get_id(obj: Mapping[str, Any], key: str) -> str:
    value = get_str(obj, key)
    assert value is not None
    if not value or len(value) > MAX_ID_LENGTH:
        raise bad_body(f"field {key!r} must be a non-empty id of at most {MAX_ID_LENGTH} characters")
    return value


# -- money, currency, time -------------------------------------------------

def invalid_amount() -> WebhookError:
    return WebhookError(400, "invalid_amount", "amount must be a positive finite decimal")


def decimal_string(value: Any) -> str:
    """A JSON string, int or Decimal -> a plain decimal string ("12.50").

    Strings follow the amount grammar of overlay.domain.money; numbers are read by the
    same rule (floats never get here: JSON is parsed with money.json_number, and
    a number written with an exponent is refused). Bools are refused although
    they are ints. The currency's decimals are checked later, by money.parse_amount.
    """
    if isinstance(value, str):
        try:
            money.check_literal(value)
        except money.MoneyError:
            raise invalid_amount() from None
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0 or value >= 10**MAX_AMOUNT_INTEGER_DIGITS:
            raise invalid_amount()
        return str(value)
    if not isinstance(value, Decimal) or isinstance(value, money.ExponentNumber):
        raise invalid_amount()
    exponent = value.as_tuple().exponent
    # Check the size before formatting: a 100,000-decimal literal would become a 100 kB string.
    if value.is_signed() or not isinstance(exponent, int) or exponent < -MAX_AMOUNT_LENGTH or \
            value.adjusted() >= MAX_AMOUNT_INTEGER_DIGITS:
        raise invalid_amount()
    return format(value, "f")


def provider_amount(value: Any, currency: str) -> str:
    """decimal_string, minus the zero decimals a platform writes past the currency's own.

    Platforms that print every amount with two decimals send "500.00" for JPY; the
    money module takes at most the currency's decimals, so those zeros (only zeros)
    are dropped here. Any other extra digit is left for the money module to refuse.
    """
    text = decimal_string(value)
    whole, _, fraction = text.partition(".")
    keep = money.exponent(currency) if currency in money.known_currencies() else len(fraction)
    if len(fraction) > keep and not fraction[keep:].strip("0"):
        fraction = fraction[:keep]
    return f"{whole}.{fraction}" if fraction else whole


def minor_units_to_decimal(minor: Any, exponent: int) -> str:
    """Integer minor units -> decimal string with `exponent` decimals, without floats."""
    if not isinstance(minor, int) or isinstance(minor, bool) or minor < 0:
        raise invalid_amount()
    if minor >= 10 ** (MAX_AMOUNT_INTEGER_DIGITS + exponent):
        raise invalid_amount()
    return money.with_decimals(minor, exponent)


def currency_code(value: Any) -> str:
    if not isinstance(value, str) or not _CURRENCY.fullmatch(value):
        raise WebhookError(400, "invalid_currency", "currency must be a three-letter ISO 4217 code")
    return value.upper()


def parse_rfc3339(value: str) -> datetime | None:
    """An RFC 3339 timestamp as an aware UTC datetime, or None if it is not one."""
    if not _RFC3339.fullmatch(value):
        return None
    try:
        return datetime.fromisoformat(value.upper()).astimezone(timezone.utc)
    except (ValueError, OverflowError):
        return None


def get_datetime(obj: Mapping[str, Any], key: str, *, strict: bool = True) -> datetime | None:
    """An optional RFC 3339 field. `strict=False` turns an unreadable value into
    None: a platform's display timestamp is not worth refusing a payment for."""
    value = obj.get(key)
    if value is None:
        return None
    parsed = parse_rfc3339(value) if isinstance(value, str) else None
    if parsed is None and strict:
        raise bad_body(f"field {key!r} must be an RFC 3339 timestamp")
    return parsed


def from_unix(value: Any) -> datetime | None:
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    try:
        return datetime.fromtimestamp(value, timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def within(ts: datetime, now: datetime, seconds: int) -> bool:
    try:
        return abs((now - ts).total_seconds()) <= seconds
    except (OverflowError, TypeError):
        return False
