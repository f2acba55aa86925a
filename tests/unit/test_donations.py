"""overlay.domain.donations: a donation from input to the Change a store commits, and what
moderators do to it afterwards (hold, approve, reject, confirm, refund, replay)."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from overlay.domain import donations
from overlay.domain.donations import DonationError, DonationInput
from overlay.domain.state import DASHBOARD, OVERLAY, Change, ChannelState
from tests.support import make_config

NOW = 1_700_000_000_000


def give(cfg: Any, state: ChannelState, amount: str = "10.00", now: int = NOW, **kw: Any) -> Change:
    rec = donations.new_record(cfg, DonationInput(amount=amount, **kw), now)
    return donations.accept_donation(cfg, state, rec, now)


def kinds(change: Change) -> list[tuple[str, str]]:
    return [(e.type, e.audience) for e in change.events]


def test_a_donation_counts_is_matched_and_told_in_seq_order(cfg: Any) -> None:
    state = ChannelState.initial(cfg)
    ch = give(cfg, state, "12.50", donor_name="Alice", external_id="x1")
    rec = ch.donations[0]
    assert (rec["amount"], rec["matched"], rec["seq"], rec["status"]) == (1250, 1250, 1, "approved")
    assert ch.state.totals == {"raised": 1250, "matched": 1250, "count": 1} and ch.state.match["used"] == 1250
    assert ch.external == ("api", "x1", rec["id"]) and ch.leaderboard == [("Alice", 1250)]
    assert [e.seq for e in ch.events] == list(range(1, len(ch.events) + 1)) and ch.state.seq == len(ch.events)
    assert kinds(ch)[0] == ("donation", OVERLAY) and ("match", OVERLAY) in kinds(ch)
    assert ("alert", OVERLAY) in kinds(ch)  # the queue was empty: it plays at once
    assert ch.events[0].data["campaign"]["total"] == "25.00"
    assert state.totals["count"] == 0 and state.seq == 0  # the state it started from is untouched


def test_a_foreign_currency_is_converted_and_unknown_ones_are_refused(cfg: Any) -> None:
    rec = donations.new_record(cfg, DonationInput(amount="10.00", currency="USD"), NOW)
    assert (rec["amount"], rec["original_amount"], rec["original_currency"]) == (920, 1000, "USD")
    with pytest.raises(DonationError) as e:
        donations.new_record(cfg, DonationInput(amount="1000", currency="JPY"), NOW)
    assert e.value.code == "unsupported_currency"


@pytest.mark.parametrize("inp,code", [
    (DonationInput(amount="0"), "invalid_amount"),
    (DonationInput(amount=1.5), "invalid_amount"),
    (DonationInput(amount="5", source="Bad Source"), "invalid_source"),
    (DonationInput(amount="5", external_id=""), "invalid_external_id"),
    (DonationInput(amount="5", external_id="x" * 256), "invalid_external_id"),
    (DonationInput(amount="5", external_id=7), "invalid_external_id"),
])
def test_bad_input_is_refused_with_a_code(cfg: Any, inp: DonationInput, code: str) -> None:
    with pytest.raises(DonationError) as e:
        donations.new_record(cfg, inp, NOW)
    assert e.value.code == code


def test_an_amount_worth_nothing_once_converted_is_refused(tmp_path: Path) -> None:
    cfg = make_config(tmp_path, fx={"USD": "0.4"}).channels[0]
    with pytest.raises(DonationError) as e:
        donations.new_record(cfg, DonationInput(amount="0.01", currency="USD"), NOW)
    assert e.value.code == "invalid_amount"


def test_a_test_donation_is_shown_but_counts_nowhere(cfg: Any) -> None:
    ch = give(cfg, ChannelState.initial(cfg), test=True, donor_name="Alice")
    assert ch.state.totals == {"raised": 0, "matched": 0, "count": 0} and ch.state.match["used"] == 0
    assert ch.leaderboard == [] and ("donation", OVERLAY) in kinds(ch) and ("alert", OVERLAY) in kinds(ch)


def test_below_the_alert_minimum_no_alert_is_queued(cfg: Any) -> None:
    ch = give(cfg, ChannelState.initial(cfg), "0.50")
    assert ch.state.alerts["queue"] == [] and ch.state.alerts["current"] is None and ch.queue_ops == []


def test_the_match_stops_at_its_cap(tmp_path: Path) -> None:
    cfg = make_config(tmp_path, match={"sponsor": "TikTok", "multiplier": "2", "cap": "15.00"}).channels[0]
    first = give(cfg, ChannelState.initial(cfg), "10.00")
    second = give(cfg, first.state, "10.00")
    assert [c.donations[0]["matched"] for c in (first, second)] == [1000, 500]
    assert give(cfg, second.state, "10.00").donations[0]["matched"] == 0


def test_a_held_donation_counts_but_only_moderators_see_it_until_approved(tmp_path: Path) -> None:
    cfg = make_config(tmp_path, moderation={"hold": "messages"}).channels[0]
    ch = give(cfg, ChannelState.initial(cfg), message="hello", donor_name="Bob")
    rec = ch.donations[0]
    assert rec["status"] == "held" and ch.state.totals["raised"] == 1000
    assert ("donation", DASHBOARD) in kinds(ch) and ("donation", OVERLAY) not in kinds(ch)
    assert ch.leaderboard == [] and ch.state.alerts["queue"] == []
    approved = donations.moderate(cfg, ch.state, rec, "approve", NOW + 1)
    assert approved.donations[0]["status"] == "approved" and approved.leaderboard == [("Bob", 1000)]
    assert ("donation", OVERLAY) in kinds(approved) and approved.state.totals == ch.state.totals
    rejected = donations.moderate(cfg, ch.state, rec, "reject", NOW + 1)
    assert rejected.donations[0]["status"] == "rejected" and ("donation", OVERLAY) not in kinds(rejected)
    with pytest.raises(DonationError) as e:
        donations.moderate(cfg, approved.state, approved.donations[0], "reject", NOW + 2)
    assert e.value.code == "not_held"


def test_a_pledge_counts_only_once_confirmed(cfg: Any) -> None:
    rec = donations.new_record(cfg, DonationInput(amount="20.00", source="pledge"), NOW)
    pledged = donations.record_pledge(cfg, ChannelState.initial(cfg), rec, NOW)
    pending = pledged.donations[0]
    assert pending["status"] == "pending" and pledged.state.totals["count"] == 0 and kinds(pledged) == [
        ("donation", DASHBOARD)]
    with pytest.raises(DonationError):
        donations.refund(cfg, pledged.state, pending, NOW)
    confirmed = donations.confirm(cfg, pledged.state, pending, NOW + 1)
    rec = confirmed.donations[0]
    assert rec["status"] == "approved" and rec["seq"] > pending["seq"] and rec["matched"] == 2000
    assert confirmed.state.totals == {"raised": 2000, "matched": 2000, "count": 1}
    with pytest.raises(DonationError) as e:
        donations.confirm(cfg, confirmed.state, rec, NOW + 2)
    assert e.value.code == "not_pending"


def test_a_refund_leaves_the_totals_and_gives_the_match_back_once(cfg: Any) -> None:
    ch = give(cfg, ChannelState.initial(cfg), "10.00", donor_name="Alice")
    refunded = donations.refund(cfg, ch.state, ch.donations[0], NOW + 1)
    assert refunded.state.totals == {"raised": 0, "matched": 0, "count": 0} and refunded.state.match["used"] == 0
    assert refunded.leaderboard == [("Alice", -1000)] and refunded.donations[0]["status"] == "refunded"
    assert donations.refund(cfg, refunded.state, refunded.donations[0], NOW + 2) is None


def test_replay_puts_an_approved_donation_first_in_the_queue(cfg: Any) -> None:
    state = ChannelState.initial(cfg)
    for name in ("A", "B", "C"):  # A plays, B and C wait
        ch = give(cfg, state, donor_name=name)
        state = ch.state
    replayed = donations.replay(cfg, state, ch.donations[0], NOW + 1)
    assert [i["donation"]["donor_name"] for i in replayed.state.alerts["queue"]] == ["C", "B", "C"]


def test_alert_controls_skip_and_clear(cfg: Any) -> None:
    state = give(cfg, ChannelState.initial(cfg)).state
    state = give(cfg, state, donor_name="Next").state
    skipped = donations.control_alerts(cfg, state, "skip", NOW + 10)
    assert skipped.events[0].data == {"seq": state.seq + 1, "action": "skip"}
    cleared = donations.control_alerts(cfg, state, "clear", NOW + 10)
    assert cleared.state.alerts["queue"] == [] and ("clear", None) in cleared.queue_ops


def test_match_and_campaign_changes_are_told_to_overlays(cfg: Any) -> None:
    state = give(cfg, ChannelState.initial(cfg)).state
    changed = donations.set_match(cfg, state, "Acme", Decimal("1.5"), 100_000, None, None, NOW)
    assert changed.state.match["used"] == 1000 and changed.events[0].data["match"]["multiplier"] == "1.5"
    ended = donations.end_match(cfg, changed.state, NOW)
    assert ended.state.match is None and ended.events[0].data["match"]["active"] is False
    patched = donations.patch_campaign(cfg, state, "New title", 500_000, NOW, milestones=[300, 100, 300])
    assert patched.state.campaign["milestones"] == [100, 300]
    assert patched.events[0].data["campaign"]["title"] == "New title"
