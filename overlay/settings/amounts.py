"""How an amount is written and whether it fits a currency: the one grammar of every entry
point (API, donate page, webhooks, config). Settings check their amounts here; overlay.domain.money
builds on it (minor units, conversion, formatting).
"""
from __future__ import annotations

import re
from decimal import Decimal
from functools import lru_cache

from babel import Locale
from babel.core import UnknownLocaleError
from babel.numbers import get_currency_precision, list_currencies

# Larger than any real gift, small enough that integer maths and Redis counters never overflow.
MAX_MAJOR_UNITS = 1_000_000_000


class MoneyError(ValueError):
    """An amount or currency a human must correct; the message says what is wrong."""


@lru_cache(maxsize=None)
def known_currencies() -> frozenset[str]:
    return frozenset(list_currencies())


def check_currency(code: object) -> str:
    if not isinstance(code, str) or code.upper() not in known_currencies():
        raise MoneyError(f"unknown currency {str(code)[:8]!r}: expected an ISO 4217 code such as EUR")
    return code.upper()


@lru_cache(maxsize=None)
def exponent(currency: str) -> int:
    """Digits after the decimal point: 2 for EUR, 0 for JPY, 3 for KWD."""
    return get_currency_precision(currency)


# The one amount grammar of every entry point (API, donate page, webhooks, config):
# ASCII digits, then optionally "." and at least one digit. No sign, exponent,
# "_", space or non-ASCII digit; "5." and ".5" are refused. Leading zeros are fine.
AMOUNT_LITERAL = re.compile(r"([0-9]+)(?:\.([0-9]+))?")
MAX_LITERAL_LENGTH = 32
MAX_DECIMALS = 4  # the most any ISO 4217 currency has (CLF); a channel's currency may allow fewer


def amount_pattern(decimals: int = MAX_DECIMALS, *, zero: bool = False) -> str:
    """The amounts ``parse_amount`` takes in a currency of ``decimals``, as a regular expression
    (for JSON Schema, so without look-ahead): above 0 (or 0 too), at most MAX_MAJOR_UNITS
    (1,000,000,000), leading zeros allowed."""
    nought = "|0" + (rf"(\.0{{1,{decimals}}})?" if decimals else "") if zero else ""
    if not decimals:
        return rf"^0*([1-9][0-9]{{0,8}}|1000000000{nought})$"
    # Below 1: k leading zeros, then a digit that is not, in at most ``decimals`` digits.
    below_one = "|".join(f"0{{{k}}}[1-9][0-9]{{0,{decimals - 1 - k}}}" for k in range(decimals))
    return (rf"^0*([1-9][0-9]{{0,8}}(\.[0-9]{{1,{decimals}}})?|0\.({below_one})"
            rf"|1000000000(\.0{{1,{decimals}}})?{nought})$")


POSITIVE_AMOUNT_PATTERN = amount_pattern()
SETTING_AMOUNT_PATTERN = amount_pattern(zero=True)  # a threshold may be 0


class ExponentNumber(Decimal):
    """A JSON number written with an exponent ("1e2"): read as a number, never as an amount."""


def json_number(text: str) -> Decimal:
    """``parse_float`` for JSON readers: keeps the fact that a number used an exponent."""
    return ExponentNumber(text) if "e" in text or "E" in text else Decimal(text)


def check_literal(text: str) -> Decimal:
    """A decimal string of the amount grammar -> Decimal, whatever the currency."""
    if len(text) > MAX_LITERAL_LENGTH:
        raise MoneyError("amount is too long")
    if not AMOUNT_LITERAL.fullmatch(text):
        raise MoneyError("amount must be written with digits 0-9 and an optional '.', such as \"12.50\"")
    return Decimal(text)


def _digits(value: object) -> tuple[int, int]:
    """-> (digits as an integer, number of decimals), from the amount grammar only."""
    if isinstance(value, str):
        check_literal(value)
        whole, _, frac = value.partition(".")
        return int(whole + frac), len(frac)
    if isinstance(value, int) and not isinstance(value, bool):
        return value, 0
    if isinstance(value, Decimal) and not isinstance(value, ExponentNumber) and value.is_finite():
        # A Decimal read from JSON keeps its literal's decimals: 12.50 -> exponent -2.
        sign, digits, exp = value.as_tuple()
        if isinstance(exp, int) and exp <= 0 and len(digits) <= MAX_LITERAL_LENGTH:
            return (-1 if sign else 1) * int("".join(map(str, digits)) or "0"), -exp
    if isinstance(value, ExponentNumber):
        raise MoneyError("amount must be written without an exponent, such as 500 or 12.50")
    raise MoneyError("amount must be a decimal string such as \"12.50\"")


def parse_amount(value: object, currency: str, *, allow_zero: bool = False) -> int:
    """A decimal string (or a JSON int/Decimal of the same grammar) in ``currency`` -> minor units."""
    number, decimals = _digits(value)
    exp = exponent(currency)
    if decimals > exp:
        raise MoneyError(f"{currency} amounts have at most {exp} decimals")
    minor = number * 10 ** (exp - decimals)
    if minor < 0 or (minor == 0 and not allow_zero):
        raise MoneyError("amount must be greater than zero")
    if minor > MAX_MAJOR_UNITS * 10**exp:
        raise MoneyError(f"amount must not exceed {MAX_MAJOR_UNITS}")
    return minor



def check_locale(tag: object) -> str:
    try:
        Locale.parse(str(tag))
    except (UnknownLocaleError, ValueError, TypeError):
        raise MoneyError(f"unknown locale {str(tag)[:16]!r}: expected a tag such as fr_FR") from None
    return str(tag)
