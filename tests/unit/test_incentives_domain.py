"""overlay.domain.incentives without a server: allocation, totals, leader, winner, reached, rewards."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from overlay.domain import donations, incentive_ops, incentives
from overlay.domain.donations import DonationError, DonationInput
from overlay.settings.incentives import INCENTIVE
from overlay.domain.state import ChannelState
from tests.support import make_config

INCENTIVES = [
    {"id": "hair", "kind": "target", "title": "Dye my hair", "amount": "30.00"},
    {"id": "game", "kind": "poll", "title": "Next game",
     "options": [{"id": "celeste", "label": "Celeste"}, {"id": "hades", "label": "Hades"}]},
    {"id": "shout", "kind": "reward", "title": "Your name on stream", "min_amount": "25.00", "quantity": 1},
]


@pytest.fixture
def cfg(tmp_path: Path) -> Any:
    return make_config(tmp_path, incentives=INCENTIVES).channels[0]


def give(cfg: Any, state: ChannelState, amount: str, choice: Any, now: int = 1000) -> tuple[ChannelState, dict]:
    rec = donations.new_record(cfg, DonationInput(amount=amount), now)
    rec = incentive_ops.attach(cfg, state, rec, choice, now)
    ch = donations.accept_donation(cfg, state, rec, now)
    incentive_ops.book(cfg, ch, ch.donations[0])
    return ch.state, ch.donations[0]


def public(cfg: Any, state: ChannelState, incentive_id: str) -> dict[str, Any]:
    return next(i for i in incentive_ops.snapshot(cfg, state, 1000) if i["id"] == incentive_id)


def test_matched_money_follows_the_option_and_the_leader_has_a_margin(cfg: Any) -> None:
    state = ChannelState.initial(cfg)  # the match doubles: 10 + 10 matched
    state, _ = give(cfg, state, "10.00", {"id": "game", "option": "hades"})
    state, _ = give(cfg, state, "3.00", {"id": "game", "option": "celeste"})
    poll = public(cfg, state, "game")
    assert [(o["id"], o["total"]) for o in poll["options"]] == [("celeste", "6.00"), ("hades", "20.00")]
    assert (poll["leader"], poll["margin"], poll["winner"], poll["total"]) == ("hades", "14.00", None, "26.00")


def test_a_target_is_reached_once_and_stays_reached_after_a_refund(cfg: Any) -> None:
    state = ChannelState.initial(cfg)
    rec = donations.new_record(cfg, DonationInput(amount="20.00"), 1000)
    rec = incentive_ops.attach(cfg, state, rec, {"id": "hair"}, 1000)
    ch = donations.accept_donation(cfg, state, rec, 1000)
    incentive_ops.book(cfg, ch, ch.donations[0])
    reached = [e for e in ch.events if e.type == "incentive" and e.data.get("reached")]
    assert len(reached) == 1 and reached[0].data["incentive"]["reached"] is True
    refund = donations.refund(cfg, ch.state, ch.donations[0], 2000)
    assert refund is not None
    incentive_ops.book(cfg, refund, ch.donations[0], -1)
    target = public(cfg, refund.state, "hair")
    assert (target["total"], target["reached"]) == ("0.00", True)


@pytest.mark.parametrize("choice, code", [
    ({"id": "nope"}, "unknown_incentive"),
    ({"id": "game"}, "invalid_incentive_option"),
    ({"id": "game", "option": "zelda"}, "invalid_incentive_option"),
    ({"id": "hair", "option": "x"}, "invalid_incentive_option"),
    ({"id": "shout"}, "below_reward_minimum"),
    ("game", "invalid_incentive"),
])
def test_bad_choices_are_refused(cfg: Any, choice: Any, code: str) -> None:
    with pytest.raises(DonationError) as err:
        give(cfg, ChannelState.initial(cfg), "10.00", choice)
    assert err.value.code == code and err.value.kind in ("invalid", "conflict")


def test_a_closed_poll_refuses_and_names_its_winner(cfg: Any) -> None:
    state, _ = give(cfg, ChannelState.initial(cfg), "5.00", {"id": "game", "option": "celeste"})
    closed = incentive_ops.update(cfg, state, INCENTIVE.validate_python(
        {**INCENTIVES[1], "open": False}), 2000).state
    assert public(cfg, closed, "game")["winner"] == "celeste"
    with pytest.raises(DonationError) as err:
        give(cfg, closed, "5.00", {"id": "game", "option": "hades"})
    assert (err.value.code, err.value.kind) == ("incentive_closed", "conflict")


def test_a_reward_with_a_quantity_runs_out_and_a_move_follows(cfg: Any) -> None:
    state, first = give(cfg, ChannelState.initial(cfg), "25.00", {"id": "shout"})
    assert public(cfg, state, "shout")["remaining"] == 0
    with pytest.raises(DonationError) as err:
        give(cfg, state, "30.00", {"id": "shout"})
    assert err.value.code == "reward_sold_out"
    moved = incentive_ops.reallocate(cfg, state, first, {"id": "game", "option": "hades"}, 3000).state
    assert public(cfg, moved, "shout")["remaining"] == 1
    assert public(cfg, moved, "game")["options"][1]["total"] == "50.00"


def test_an_option_with_donations_cannot_be_removed_until_they_move(cfg: Any) -> None:
    state, _ = give(cfg, ChannelState.initial(cfg), "5.00", {"id": "game", "option": "celeste"})
    without_celeste = {**INCENTIVES[1], "options": [{"id": "hades", "label": "Hades"},
                                                     {"id": "zelda", "label": "Zelda"}]}
    with pytest.raises(DonationError) as err:
        incentive_ops.update(cfg, state, INCENTIVE.validate_python(without_celeste), 2000)
    assert (err.value.code, err.value.kind) == ("option_has_donations", "conflict")
    # An option nobody chose goes; the poll's total stays the sum of its bars.
    without_hades = {**INCENTIVES[1], "options": [{"id": "celeste", "label": "Celeste"},
                                                   {"id": "zelda", "label": "Zelda"}]}
    poll = public(cfg, incentive_ops.update(cfg, state, INCENTIVE.validate_python(without_hades),
                                            2000).state, "game")
    assert [o["id"] for o in poll["options"]] == ["celeste", "zelda"]
    assert poll["total"] == poll["options"][0]["total"] == "10.00"
