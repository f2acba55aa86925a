"""overlay.domain.matching: when the sponsor's match runs and what it adds, within its cap."""
from __future__ import annotations

from typing import Any

import pytest

from overlay.domain import matching


def match(multiplier: str = "2", cap: int = 10_000, used: int = 0, **window: Any) -> dict[str, Any]:
    return {"sponsor": "TikTok", "multiplier": multiplier, "cap": cap, "used": used, **window}


@pytest.mark.parametrize("m,now,active", [
    (None, 0, False),
    (match(), 0, True),
    (match(used=10_000), 0, False),
    (match(starts_at=1000), 999, False), (match(starts_at=1000), 1000, True),
    (match(ends_at=1000), 999, True), (match(ends_at=1000), 1000, False),
    (match(starts_at=None, ends_at=None), 10**13, True),
])
def test_active_between_its_times_until_the_cap_is_used(m: Any, now: int, active: bool) -> None:
    assert matching.is_match_active(m, now) is active


def test_the_sponsor_adds_the_multiplier_minus_one_and_counts_it_used() -> None:
    m = match(multiplier="1.5")
    assert matching.take_match(m, 1001, 0) == 500  # never overpays: 500.5 -> 500
    assert m["used"] == 500
    assert matching.take_match(match(multiplier="3"), 1250, 0) == 2500


def test_the_last_gift_gets_what_is_left_of_the_cap_and_the_next_nothing() -> None:
    m = match(cap=1000, used=900)
    assert matching.take_match(m, 500, 0) == 100 and m["used"] == 1000
    assert matching.take_match(m, 500, 0) == 0 and m["used"] == 1000


def test_outside_its_window_nothing_is_taken() -> None:
    m = match(starts_at=5000)
    assert matching.take_match(m, 500, 4999) == 0 and m["used"] == 0
    assert matching.take_match(None, 500, 0) == 0
