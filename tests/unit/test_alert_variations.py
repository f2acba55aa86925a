"""overlay.domain.alert_variations: which variation an alert shows, chosen once at queue time."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from overlay.config import ConfigError
from overlay.domain import alert_variations as av
from overlay.domain import donations
from overlay.domain.donations import DonationInput
from overlay.domain.state import ChannelState
from tests.support import make_config

NOW = 1_700_000_000_000


def rec(amount: int, *, id_: str = "d_1", source: str = "api", name: str | None = "Ann",
        test: bool = False, incentive: str | None = None) -> dict[str, Any]:
    return {"id": id_, "amount": amount, "source": source, "donor_name": name, "test": test,
            "incentive": {"id": incentive} if incentive else None}


def checked(*variations: dict[str, Any], incentives: set[str] = frozenset({"boss"})) -> list[dict[str, Any]]:
    return av.check(list(variations), "EUR", set(incentives))


def chosen(items: list[dict[str, Any]], r: dict[str, Any], *, first: bool | None = None,
           biggest: bool = False) -> str | None:
    v = av.choose(items, r, first=first, biggest=biggest)
    return None if v is None else v["id"]


def test_first_match_wins_by_amount_range_and_source() -> None:
    items = checked({"id": "big", "when": {"min_amount": "50.00"}},
                    {"id": "mid", "when": {"min_amount": "10", "max_amount": "49.99"}},
                    {"id": "kofi", "when": {"source": "kofi"}})
    assert chosen(items, rec(5000)) == "big"
    assert chosen(items, rec(1000)) == "mid"
    assert chosen(items, rec(4999)) == "mid"
    assert chosen(items, rec(500, source="kofi")) == "kofi"
    assert chosen(items, rec(500)) is None


def test_donor_biggest_incentive_and_test_conditions() -> None:
    items = checked({"id": "t", "when": {"test": True}}, {"id": "first", "when": {"donor": "first"}},
                    {"id": "boss", "when": {"incentive": "boss"}}, {"id": "top", "when": {"biggest": True}},
                    {"id": "again", "when": {"donor": "repeat"}})
    assert chosen(items, rec(100, test=True)) == "t"
    assert chosen(items, rec(100), first=True) == "first"
    assert chosen(items, rec(100, incentive="boss"), first=False) == "boss"
    assert chosen(items, rec(100), first=False, biggest=True) == "top"
    assert chosen(items, rec(100), first=False) == "again"
    assert chosen(items, rec(100, name=None)) is None  # no name: neither first nor repeat


def test_weighted_draw_is_seeded_by_the_donation_id() -> None:
    items = checked({"id": "a", "when": {"weight": 3}}, {"id": "b", "when": {"weight": 1}})
    picks = [chosen(items, rec(100, id_=f"d_{i}")) for i in range(400)]
    assert picks == [chosen(items, rec(100, id_=f"d_{i}")) for i in range(400)]  # the same everywhere
    assert 240 < picks.count("a") < 360  # about 3 in 4


@pytest.mark.parametrize("variations, field", [
    ([{"id": "x", "when": {"min_amount": "10", "max_amount": "5"}}], "variations[0].when.min_amount"),
    ([{"id": "x", "when": {"incentive": "nope"}}], "variations[0].when.incentive"),
    ([{"id": "x", "when": {"weight": 0}}], "variations[0].when.weight"),
    ([{"id": "all"}, {"id": "x", "when": {"source": "kofi"}}], "variations[1]"),
    ([{"id": "x", "text": "{name} gave {amount} {oops}"}], "variations[0].text"),
    ([{"id": "x", "when": {"source": "kofi"}}, {"id": "x"}], "variations[1].id"),
])
def test_a_variation_that_can_never_match_is_refused_naming_the_field(variations: list[Any], field: str) -> None:
    with pytest.raises(av.VariationError) as err:
        checked(*variations)
    assert err.value.message.startswith(field + ":")


def test_config_names_the_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        make_config(tmp_path, alerts={"variations": [{"id": "x", "when": {"weight": -1}}]})
    assert any("alerts.variations[0].when.weight:" in p for p in err.value.problems)


def test_the_play_event_carries_the_variation_chosen_at_queue_time(tmp_path: Path) -> None:
    cfg = make_config(tmp_path, alerts={"min_amount": "1.00", "variations": [
        {"id": "first", "when": {"donor": "first"}, "text": "Welcome {name}!", "image": "star.png"},
        {"id": "top", "when": {"biggest": True}, "duration_ms": 3000, "tts": False}]}).channels[0]
    state = ChannelState.initial(cfg)
    plays = []
    for name, amount in (("Ann", "5.00"), ("ANN", "9.00"), ("ann", "2.00")):
        r = donations.new_record(cfg, DonationInput(amount=amount, donor_name=name), NOW)
        change = donations.accept_donation(cfg, state, r, NOW)
        state = change.state
        state.alerts["current"] = None  # let the next one play at once
        plays += [e.data for e in change.events if e.type == "alert"]
    assert [p.get("variation") for p in plays] == [
        {"id": "first", "text": "Welcome {name}!", "image": "star.png"},
        {"id": "top", "duration_ms": 3000, "tts": False}, None]
    assert plays[1]["duration_ms"] == 3000


def test_first_and_biggest_are_counted_by_real_gifts_only() -> None:
    items = checked({"id": "first", "when": {"donor": "first"}})
    kept, shown = av.pick(items, None, rec(500, name="Ann", test=True), counts=False)
    assert shown == {"id": "first"} and kept == av.empty()  # a test previews, remembers nothing
    kept, shown = av.pick(items, kept, rec(500, name="Ann"), counts=True)
    assert shown == {"id": "first"} and kept["biggest"] == 500 and len(kept["donors"]) == 1
    assert av.pick(items, kept, rec(100, name=" ann "), counts=True)[1] is None
