"""overlay.domain.timing: run-time alert timing over config.yaml's, per tier, ordered with donations."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from overlay.domain import donations, timing
from overlay.domain.donations import DonationInput
from overlay.domain.state import ChannelState
from tests.support import make_config

NOW = 1_700_000_000_000
TIERS = [{"min_amount": "50.00", "duration_ms": 5000}, {"min_amount": "10.00"}]


@pytest.fixture
def cfg(tmp_path: Path) -> Any:
    return make_config(tmp_path, alerts={"min_amount": "1.00", "duration_ms": 2000, "gap_ms": 100,
                                         "tiers": TIERS}).channels[0]


def queue_durations(cfg: Any, state: ChannelState, *amounts: str) -> tuple[ChannelState, list[int]]:
    for amount in amounts:
        rec = donations.new_record(cfg, DonationInput(amount=amount), NOW)
        state = donations.accept_donation(cfg, state, rec, NOW).state
    cur = state.alerts["current"]
    return state, [cur["duration_ms"]] + [i["duration_ms"] for i in state.alerts["queue"]]


def test_config_yaml_decides_until_a_moderator_changes_it(cfg: Any) -> None:
    state = ChannelState.initial(cfg)
    assert (timing.duration_ms(cfg, state), timing.gap_ms(cfg, state)) == (2000, 100)
    _, durations = queue_durations(cfg, state, "5.00", "10.00", "60.00")
    assert durations == [2000, 2000, 5000]  # a tier without its own duration takes the channel's


def test_a_change_applies_to_alerts_queued_after_it_only(cfg: Any) -> None:
    state, before = queue_durations(cfg, ChannelState.initial(cfg), "5.00", "60.00")
    changes = timing.check(cfg, 3000, 0, [("50.00", 7000)])
    ch = timing.set_timing(cfg, state, changes, NOW)
    assert ch.events[0].type == "alert_timing" and ch.events[0].data["alert_timing"]["effective"]["gap_ms"] == 0
    _, after = queue_durations(cfg, ch.state, "5.00", "60.00")
    assert after == before + [3000, 7000]


def test_setting_nothing_goes_back_to_config_yaml(cfg: Any) -> None:
    assert timing.check(cfg, None, None, [("10.00", None)]) is None
    state = timing.set_timing(cfg, ChannelState.initial(cfg), {"duration_ms": 3000, "gap_ms": None, "tiers": {}},
                              NOW).state
    assert timing.duration_ms(cfg, timing.set_timing(cfg, state, None, NOW).state) == 2000


@pytest.mark.parametrize("tiers,code", [
    ([("20.00", 3000)], "unknown_tier"),
    ([("10.00", 3000), ("10", 4000)], "invalid_tiers"),
    ([("ten", 3000)], "invalid_tiers"),
])
def test_tiers_must_be_config_yamls_each_once(cfg: Any, tiers: list[Any], code: str) -> None:
    with pytest.raises(timing.TimingError) as e:
        timing.check(cfg, None, None, tiers)
    assert e.value.code == code


def test_the_wire_form_shows_the_changes_what_applies_and_config_yaml(cfg: Any) -> None:
    state = timing.set_timing(cfg, ChannelState.initial(cfg), timing.check(cfg, None, 500, [("10.00", 2500)]),
                              NOW).state
    assert timing.public(cfg, state) == {
        "duration_ms": None, "gap_ms": 500,
        "tiers": [{"min_amount": "10.00", "duration_ms": 2500}, {"min_amount": "50.00", "duration_ms": None}],
        "effective": {"duration_ms": 2000, "gap_ms": 500, "tiers": [
            {"min_amount": "10.00", "duration_ms": 2500}, {"min_amount": "50.00", "duration_ms": 5000}]},
        "config": {"duration_ms": 2000, "gap_ms": 100, "tiers": [
            {"min_amount": "10.00", "duration_ms": None}, {"min_amount": "50.00", "duration_ms": 5000}]},
    }
