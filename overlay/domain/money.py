"""Money: integer minor units inside, decimal strings on the wire, Babel for humans.

Nothing here touches a float. Input may be a decimal string or a JSON number that
a JSON reader turned into an int or, with ``json_number``, a Decimal.
"""
from __future__ import annotations

from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from functools import lru_cache

from babel import Locale
from babel.numbers import format_currency
from babel.numbers import format_percent as babel_percent

# How an amount is written and which currencies exist is the settings' grammar too (a leaf
# they share): the domain's money module re-exports it.
from overlay.settings.amounts import (  # noqa: F401
    AMOUNT_LITERAL, MAX_DECIMALS, MAX_LITERAL_LENGTH, MAX_MAJOR_UNITS, POSITIVE_AMOUNT_PATTERN,
    SETTING_AMOUNT_PATTERN, ExponentNumber, MoneyError, amount_pattern, check_currency, check_literal,
    check_locale, exponent, json_number, known_currencies, parse_amount)


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
