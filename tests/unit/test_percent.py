"""One way to write a percentage on every page (money.format_percent, overlay-ui.js formatPercent)."""
from __future__ import annotations

from overlay.domain.money import format_percent


def test_one_decimal_below_ten_whole_numbers_above_rounded_half_up() -> None:
    assert format_percent(5.59, "fr_FR") == "5,6\u00a0%"
    assert format_percent(0.4, "fr_FR") == "0,4\u00a0%" and format_percent(0, "fr_FR") == "0\u00a0%"
    assert format_percent(42.3, "fr_FR") == "42\u00a0%" and format_percent(250.5, "fr_FR") == "251\u00a0%"
    assert format_percent(9.96, "en_US") == "10%" and format_percent(5.59, "en_US") == "5.6%"
