from decimal import Decimal

import pytest

from overlay.domain import money


@pytest.mark.parametrize("value,currency,minor", [
    ("12.50", "EUR", 1250), ("12.5", "EUR", 1250), ("12", "EUR", 1200), (Decimal("0.01"), "EUR", 1),
    (7, "EUR", 700), ("1200", "JPY", 1200), ("1.234", "KWD", 1234), ("003.00", "USD", 300),
])
def test_parse_amount(value: object, currency: str, minor: int) -> None:
    assert money.parse_amount(value, currency) == minor


@pytest.mark.parametrize("value", ["0", "-1", "1.001", "NaN", "Infinity", "1e400", "abc", "", 1.5, True, None,
                                   "1000000001", [1], "9" * 40])
def test_parse_amount_rejects(value: object) -> None:
    with pytest.raises(money.MoneyError):
        money.parse_amount(value, "EUR")


@pytest.mark.parametrize("value", ["1e-99999999", "5e2", "1_000", "\u0665", "+5", " 5 ", "5 ", "5.", ".5", "1.2.3",
                                   "\uff15", "5\n", "0x10", "12.500", money.json_number("1e2"),
                                   money.json_number("1E-2"), Decimal("5E+2"), Decimal("12.500"), 10**400])
def test_one_amount_grammar(value: object) -> None:
    """ASCII digits, optional '.' and at most the currency's decimals; a number by the same rule."""
    with pytest.raises(money.MoneyError):
        money.parse_amount(value, "EUR")


@pytest.mark.parametrize("value,minor", [("0012.50", 1250), ("0.01", 1), (money.json_number("12.50"), 1250),
                                         ("1000000000", 100000000000), ("1000000000.00", 100000000000)])
def test_amount_grammar_accepts(value: object, minor: int) -> None:
    assert money.parse_amount(value, "EUR") == minor


def test_zero_decimals_currency_rejects_cents() -> None:
    with pytest.raises(money.MoneyError, match="at most 0 decimals"):
        money.parse_amount("10.5", "JPY")


def test_decimal_strings_roundtrip() -> None:
    assert money.to_decimal_string(1250, "EUR") == "12.50"
    assert money.to_decimal_string(5, "EUR") == "0.05"
    assert money.to_decimal_string(-1250, "EUR") == "-12.50"
    assert money.to_decimal_string(1200, "JPY") == "1200"


def test_convert_rounds_half_even_to_target_unit() -> None:
    assert money.convert(1000, "USD", "EUR", Decimal("0.92")) == 920
    assert money.convert(1, "USD", "EUR", Decimal("0.5")) == 0  # 0.005 -> 0.00 (half-even)
    assert money.convert(3, "USD", "EUR", Decimal("0.5")) == 2  # 0.015 -> 0.02
    assert money.convert(1000, "JPY", "EUR", Decimal("0.0061")) == 610


def test_scale_never_overpays() -> None:
    assert money.scale(999, Decimal("0.5")) == 499
    assert money.scale(1000, Decimal(1)) == 1000


def test_format_in_locale() -> None:
    assert money.format_amount(1250, "EUR", "fr_FR") == "12,50\u00a0€"
    assert money.format_amount(1000000, "EUR", "fr_FR") == "10\u202f000,00\u00a0€"
    assert money.format_amount(1250, "USD", "en_US") == "$12.50"
    assert money.format_amount(1200, "JPY", "ja_JP") == "￥1,200"


@pytest.mark.parametrize("currency,locale", [
    ("EUR", "fr_FR"), ("EUR", "de_DE"), ("EUR", "es_ES"), ("USD", "en_US"), ("INR", "en_IN"),
    ("JPY", "ja_JP"), ("KWD", "ar_KW"), ("CHF", "de_CH"), ("BRL", "pt_BR"), ("EUR", "nl_NL")])
def test_format_matches_babel_for_every_length(currency: str, locale: str) -> None:
    """format_amount fills a per-length shape instead of calling Babel each time: same text."""
    from babel.numbers import format_currency
    exp = money.exponent(currency)
    for minor in (0, 1, 9, 10, 99, 100, 1005, 12345, 100000, 1234567, 99999999, 123456789012, -1, -1250, -1234567):
        assert money.format_amount(minor, currency, locale) == \
            format_currency(Decimal(minor).scaleb(-exp), currency, locale=locale), (minor, currency, locale)


def test_currency_and_locale_checks() -> None:
    assert money.check_currency("eur") == "EUR"
    with pytest.raises(money.MoneyError):
        money.check_currency("EURO")
    with pytest.raises(money.MoneyError):
        money.check_locale("xx_NOPE")
