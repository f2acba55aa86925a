"""Money: integer minor units inside, decimal strings on the wire, Babel for humans.

Nothing here touches a float. Input may be a decimal string or a JSON number that
the JSON decoder already turned into a Decimal (see ``overlay.jsonutil``).
"""
from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from functools import lru_cache

from babel import Locale
from babel.core import UnknownLocaleError
from babel.numbers import format_currency, get_currency_precision, list_currencies

# Larger than any real gift, small enough that integer maths and Redis counters never overflow.
MAX_MAJOR_UNITS = Decimal(1_000_000_000)


class MoneyError(ValueError):
    """An amount or currency a human must correct; the message says what is wrong."""


@lru_cache(maxsize=None)
def _known_currencies() -> frozenset[str]:
    return frozenset(list_currencies())


def check_currency(code: object) -> str:
    if not isinstance(code, str) or code.upper() not in _known_currencies():
        raise MoneyError(f"unknown currency {str(code)[:8]!r}: expected an ISO 4217 code such as EUR")
    return code.upper()


@lru_cache(maxsize=None)
def exponent(currency: str) -> int:
    """Digits after the decimal point: 2 for EUR, 0 for JPY, 3 for KWD."""
    return get_currency_precision(currency)


def _to_decimal(value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise MoneyError("amount must be a decimal string such as \"12.50\"")
    if isinstance(value, str):
        if len(value) > 32:
            raise MoneyError("amount is too long")
        value = value.strip()
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise MoneyError(f"amount {str(value)[:32]!r} is not a number") from None
    if not amount.is_finite():
        raise MoneyError("amount must be a finite number")
    return amount


def parse_amount(value: object, currency: str, *, allow_zero: bool = False) -> int:
    """A decimal string (or Decimal/int) in ``currency`` -> integer minor units."""
    amount = _to_decimal(value)
    if amount < 0 or (amount == 0 and not allow_zero):
        raise MoneyError("amount must be greater than zero")
    if amount > MAX_MAJOR_UNITS:
        raise MoneyError(f"amount must not exceed {MAX_MAJOR_UNITS}")
    scaled = amount.scaleb(exponent(currency))
    if scaled != scaled.to_integral_value():
        raise MoneyError(f"{currency} amounts have at most {exponent(currency)} decimals")
    return int(scaled)


def to_decimal_string(minor: int, currency: str) -> str:
    """Integer minor units -> the wire format: "12.50", "1200" for JPY."""
    exp = exponent(currency)
    if exp == 0:
        return str(minor)
    sign = "-" if minor < 0 else ""
    whole, frac = divmod(abs(minor), 10**exp)
    return f"{sign}{whole}.{frac:0{exp}d}"


def convert(minor: int, source: str, target: str, rate: Decimal) -> int:
    """Convert minor units of ``source`` into minor units of ``target``.

    ``rate`` is the value of one unit of ``source`` in ``target``; the result is
    rounded half-even to the target's smallest unit.
    """
    major = Decimal(minor).scaleb(-exponent(source)) * rate
    return int(major.scaleb(exponent(target)).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def scale(minor: int, factor: Decimal) -> int:
    """minor × factor, rounded down to a whole minor unit (a sponsor never over-pays)."""
    return int((Decimal(minor) * factor).to_integral_value(rounding="ROUND_FLOOR"))


def check_locale(tag: object) -> str:
    try:
        Locale.parse(str(tag))
    except (UnknownLocaleError, ValueError, TypeError):
        raise MoneyError(f"unknown locale {str(tag)[:16]!r}: expected a tag such as fr_FR") from None
    return str(tag)


@lru_cache(maxsize=8192)  # Babel is ~60 µs a call; each donation formats about ten amounts
def format_amount(minor: int, currency: str, locale: str) -> str:
    """For humans, in the channel's locale: 1250 EUR fr_FR -> "12,50 €"."""
    value = Decimal(minor).scaleb(-exponent(currency))
    return format_currency(value, currency, locale=locale)
