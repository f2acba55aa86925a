"""The subathon timer's rules, as plain functions (no server): overlay.domain.timer."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from overlay.config import ConfigError
from overlay.domain import donations, incentive_ops, timer, wire
from overlay.domain.donations import DonationInput
from overlay.domain.state import ChannelState
from overlay.domain.timer import TimerError
from tests.support import make_config

T0 = 1_800_000_000_000  # a fixed "now", in ms


def channel(tmp_path: Path, **settings: Any) -> Any:
    return make_config(tmp_path, match=None, timer=settings).channels[0]


def donate(cfg: Any, state: ChannelState, amount: str, now: int, **extra: Any) -> ChannelState:
    inp = DonationInput(amount=amount, **extra)
    rec = incentive_ops.attach(cfg, state, donations.new_record(cfg, inp, now), inp.incentive, now)
    return donations.accept_donation(cfg, state, rec, now).state


def started(cfg: Any, now: int = T0, seconds: int | None = None) -> ChannelState:
    return timer.start(cfg, ChannelState.initial(cfg), seconds, now).state


def test_default_rule_adds_a_minute_per_whole_unit_and_nothing_below_the_minimum(tmp_path: Path) -> None:
    cfg = channel(tmp_path)
    st = started(cfg)
    assert st.timer == {"ends_at": T0 + 3_600_000, "paused": False, "remaining_ms": None, "added_ms": 0}
    st = donate(cfg, st, "12.99", T0 + 1000)
    assert st.timer["ends_at"] == T0 + 3_600_000 + 12 * 60_000 and st.timer["added_ms"] == 720_000
    assert donate(cfg, st, "0.99", T0 + 2000).timer == st.timer  # below min_amount (1.00)


def test_first_matching_rule_wins_with_incentive_rules_and_flat_seconds(tmp_path: Path) -> None:
    cfg = make_config(tmp_path, match=None, incentives=[{"id": "hair", "kind": "target", "title": "Hair",
                                                         "amount": "100.00"}],
                      timer={"rules": [{"incentive": "hair", "seconds": 600},
                                       {"min_amount": "50.00", "seconds": 300},
                                       {"seconds_per_unit": "30"}]}).channels[0]
    st = started(cfg)
    assert timer.donation_ms(cfg, {"amount": 5000, "test": False}, T0) == 300_000
    assert timer.donation_ms(cfg, {"amount": 4999, "test": False}, T0) == 49 * 30_000
    assert timer.donation_ms(cfg, {"amount": 500, "test": False, "incentive": {"id": "hair"}}, T0) == 600_000
    after = donate(cfg, st, "5.00", T0, incentive={"id": "hair"})
    assert after.timer["added_ms"] == 600_000


def test_cap_bounds_what_donations_add_but_not_what_moderators_add(tmp_path: Path) -> None:
    cfg = channel(tmp_path, cap_s=900)
    st = donate(cfg, started(cfg), "10.00", T0)   # +600 s
    st = donate(cfg, st, "10.00", T0)             # +300 s: the cap's rest
    assert st.timer["added_ms"] == 900_000 and st.timer["ends_at"] == T0 + 3_600_000 + 900_000
    assert donate(cfg, st, "10.00", T0).timer == st.timer
    st = timer.add(cfg, st, 60, T0).state
    assert st.timer["ends_at"] == T0 + 3_600_000 + 960_000 and st.timer["added_ms"] == 900_000
    assert timer.public(cfg, st.timer)["cap_ms"] == 900_000


def test_happy_hour_multiplies_inside_its_window_only(tmp_path: Path) -> None:
    start, end = wire.iso(T0 + 60_000), wire.iso(T0 + 120_000)
    cfg = channel(tmp_path, happy_hours=[{"starts_at": start, "ends_at": end, "multiplier": "2"}])
    assert timer.donation_ms(cfg, {"amount": 500, "test": False}, T0 + 59_999) == 300_000
    assert timer.donation_ms(cfg, {"amount": 500, "test": False}, T0 + 60_000) == 600_000
    assert timer.donation_ms(cfg, {"amount": 500, "test": False}, T0 + 120_000) == 300_000


def test_pause_resume_and_negative_add_down_to_zero(tmp_path: Path) -> None:
    cfg = channel(tmp_path)
    st = started(cfg, seconds=100)
    st = timer.pause(cfg, st, T0 + 40_000).state
    assert st.timer["paused"] and st.timer["ends_at"] is None and st.timer["remaining_ms"] == 60_000
    st = donate(cfg, st, "1.00", T0 + 50_000)  # a paused timer still takes time
    assert st.timer["remaining_ms"] == 120_000
    with pytest.raises(TimerError) as paused_twice:
        timer.pause(cfg, st, T0)
    assert paused_twice.value.code == "timer_paused" and paused_twice.value.kind == "conflict"
    st = timer.resume(cfg, st, T0 + 500_000).state
    assert st.timer["ends_at"] == T0 + 620_000 and not st.timer["paused"]
    st = timer.add(cfg, st, -10_000, T0 + 500_000).state
    assert st.timer["ends_at"] == T0 + 500_000  # down to zero, never below
    assert donate(cfg, st, "50.00", T0 + 500_001).timer == st.timer  # over: donations add nothing


def test_test_donations_count_only_when_asked_and_refusals(tmp_path: Path) -> None:
    cfg = channel(tmp_path)
    assert donate(cfg, started(cfg), "5.00", T0, test=True).timer["added_ms"] == 0
    counting = channel(tmp_path, count_tests=True)
    assert donate(counting, started(counting), "5.00", T0, test=True).timer["added_ms"] == 300_000
    fresh = ChannelState.initial(cfg)
    assert donate(cfg, fresh, "5.00", T0).timer is None  # never started: donations leave it alone
    for action in (lambda: timer.pause(cfg, fresh, T0), lambda: timer.add(cfg, fresh, 5, T0)):
        with pytest.raises(TimerError, match="start the timer first"):
            action()
    with pytest.raises(TimerError) as bad:
        timer.start(cfg, fresh, 0, T0)
    assert bad.value.code == "invalid_seconds"


def test_the_timer_survives_the_state_blob(tmp_path: Path) -> None:
    cfg = channel(tmp_path)
    st = donate(cfg, started(cfg), "3.00", T0)
    again = ChannelState.from_json(st.seq, st.to_json(), [])
    assert again.timer == st.timer
    assert "timer" not in ChannelState.initial(cfg).to_json()  # left out until first started


@pytest.mark.parametrize(("settings", "problem"), [
    ({"rules": [{"seconds": 10}, {"min_amount": "5.00", "seconds": 60}]}, "channels[0].timer.rules: rules[1] can never match: rules[0] matches every donation it would"),
    ({"rules": [{"min_amount": "5.00"}]}, "channels[0].timer.rules[0]: adds no time"),
    ({"happy_hours": [{"starts_at": "2026-12-06T20:00:00Z", "ends_at": "2026-12-06T22:00:00Z", "multiplier": "2"},
                      {"starts_at": "2026-12-06T21:00:00Z", "ends_at": "2026-12-06T23:00:00Z", "multiplier": "3"}]},
     "channels[0].timer.happy_hours: happy_hours[1] overlaps happy_hours[0]"),
    ({"happy_hours": [{"starts_at": "2026-12-06T22:00:00Z", "ends_at": "2026-12-06T21:00:00Z", "multiplier": "2"}]},
     "channels[0].timer.happy_hours[0]: ends_at must be after starts_at"),
    ({"min_amount": "0.001"}, "channels[0].timer.min_amount: EUR amounts have at most 2 decimals"),
])
def test_rules_that_cannot_work_are_refused_naming_the_key(tmp_path: Path, settings: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConfigError) as err:
        channel(tmp_path, **settings)
    assert any(problem in line for line in err.value.problems), err.value.problems
