"""Money: integer minor units inside, decimal strings on the wire, Babel for humans.

Nothing here touches a float. Input may be a decimal string or a JSON number that
a JSON reader turned into an int or, with ``json_number``, a Decimal.
"""
from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from functools import lru_cache

from babel import Locale
from babel.core import UnknownLocaleError
from babel.numbers import format_currency, get_currency_precision, list_currencies
from babel.numbers import format_percent as babel_percent

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


def setting_amount(value: object, currency: str) -> int:
    """A threshold of the channel's settings (goal, alert minimum, tiers: checked when the
    config loaded) in minor units. Read on every donation, parsed once."""
    return _setting_minor(str(value), currency)


@lru_cache(maxsize=1024)
def _setting_minor(text: str, currency: str) -> int:
    return parse_amount(text, currency, allow_zero=True)


def to_decimal_string(minor: int, currency: str) -> str:
    """Integer minor units -> the wire format: "12.50", "1200" for JPY."""
    return with_decimals(minor, exponent(currency))


def with_decimals(minor: int, exp: int) -> str:
    """Integer minor units -> a decimal string with ``exp`` decimals, without a float."""
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


@lru_cache(maxsize=8192)
def format_amount(minor: int, currency: str, locale: str) -> str:
    """For humans, in the channel's locale: 1250 EUR fr_FR -> "12,50 €"."""
    exp = exponent(currency)
    digits = str(abs(minor)).rjust(exp + 1, "0")
    parts = _shape(currency, locale, len(digits) - exp, minor < 0)
    if len(parts) != len(digits) + 1:  # a shape this trick cannot fill: ask Babel
        return format_currency(Decimal(minor).scaleb(-exp), currency, locale=locale)
    return parts[0] + "".join(d + p for d, p in zip(digits, parts[1:]))


@lru_cache(maxsize=1024)
def _shape(currency: str, locale: str, whole_digits: int, negative: bool) -> list[str]:
    """How Babel writes an amount with this many whole digits, split around each digit.
    Grouping and symbols depend only on the number of digits and the sign, so a running
    total (a new value on every donation, a cache miss at ~60 µs of Babel each) is filled
    into the shape of its length instead: one shape per length, a few µs per amount."""
    exp = exponent(currency)
    sample = "1" * whole_digits + ("." + "1" * exp if exp else "")
    text = format_currency(Decimal(("-" if negative else "") + sample), currency, locale=locale)
    return text.split("1")


def format_percent(percent: float, locale: str) -> str:
    """The one way a percentage is written (overlay-ui.js formatPercent does the same in the
    browser): one decimal below 10 %, so the first gifts do not read as 0 %, whole numbers above."""
    pattern = Locale.parse(locale).percent_formats[None].pattern.split(";")[0]
    step = Decimal("0.1") if percent < 10 else Decimal(1)
    if percent < 10:
        pattern = pattern.replace("0", "0.#", 1)
    # Rounded half up first, as the browser's Intl does (Babel alone rounds half to even).
    value = Decimal(str(percent)).quantize(step, rounding=ROUND_HALF_UP)
    return babel_percent(value / 100, format=pattern, locale=locale)
