"""overlay.domain.state: what a store keeps of a state and what another process follows from,
and a team's total read from its members' states (overlay.domain.teams)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from overlay.domain import donations, teams
from overlay.domain.donations import DonationInput
from overlay.domain.state import Applied, ChannelState, Event
from overlay.settings.teams import check_teams
from tests.support import make_config

NOW = 1_700_000_000_000


def accepted(cfg: Any, state: ChannelState, *amounts: str) -> list[Any]:
    changes = []
    for amount in amounts:
        rec = donations.new_record(cfg, DonationInput(amount=amount), NOW)
        changes.append(donations.accept_donation(cfg, state, rec, NOW))
        state = changes[-1].state
    return changes


def test_scalars_and_queue_are_stored_apart_and_read_back_whole(cfg: Any) -> None:
    state = accepted(cfg, ChannelState.initial(cfg), "5.00", "6.00", "7.00")[-1].state
    assert len(state.alerts["queue"]) == 2 and "queue" not in json.loads(state.to_json())["alerts"]
    again = ChannelState.from_json(state.seq, state.to_json(), state.alerts["queue"])
    assert again == state


def test_another_process_follows_a_batch_from_its_scalars_and_queue_operations(cfg: Any) -> None:
    base = accepted(cfg, ChannelState.initial(cfg), "5.00", "6.00")[-1].state
    batch = accepted(cfg, base, "7.00", "8.00")
    followed = base.advanced(Applied.of(batch))
    assert followed == batch[-1].state


def test_an_event_reads_back_as_it_was_logged(cfg: Any) -> None:
    for event in accepted(cfg, ChannelState.initial(cfg), "5.00")[0].events:
        assert Event.from_json(event.to_json()) == event


def test_a_copy_shares_nothing_an_operation_changes(cfg: Any) -> None:
    state = ChannelState.initial(cfg)
    accepted(cfg, state, "5.00")
    assert state == ChannelState.initial(cfg)


def test_a_team_totals_its_members_and_counts_only_what_moves_totals(tmp_path: Path) -> None:
    config = make_config(tmp_path, teams=[{"id": "t", "name": "Team", "goal": "100.00", "channels": ["demo"]}])
    cfg, team = config.channels[0], config.teams[0]
    change = accepted(cfg, ChannelState.initial(cfg), "10.00")[0]
    out = teams.summary(team, [(cfg, change.state.totals), (cfg, change.state.totals)])
    assert (out["raised"], out["matched"], out["total"], out["count"], out["percent"]) == (
        "20.00", "20.00", "40.00", 2, 40.0)
    assert teams.moves_totals(change)
    test = donations.new_record(cfg, DonationInput(amount="10.00", test=True), NOW)
    assert not teams.moves_totals(donations.accept_donation(cfg, change.state, test, NOW))
    mixed = team.model_copy(update={"currency": "EUR", "channels": ["demo", "other", "demo"]})
    assert check_teams([mixed], {"demo": "USD"}) == [
        "teams[0].channels: a channel is listed twice",
        "teams[0].channels[1]: no channel has the id 'other'",
        "teams[0].channels[0]: channel demo counts in USD, the team in EUR; members must share the team's currency",
        "teams[0].channels[2]: channel demo counts in USD, the team in EUR; members must share the team's currency",
    ]
