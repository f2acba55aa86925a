"""Teams: channels raising toward one total. Pure: configs and channel states in, JSON shapes out.

A team's total is the sum of its members' campaign totals (``raised``, ``matched``,
``count``), read from each member channel's committed state. Nothing is stored for a team:
a refund, a held donation or a moderator's verdict changes a member's totals, and so
the team's, with no second book to keep in step across processes.
"""
from __future__ import annotations

from typing import Any

from overlay.domain import money
from overlay.domain.state import OVERLAY, Change, ChannelState
from overlay.settings.channel import ChannelSettings
from overlay.settings.teams import TeamSettings


def currency_of(team: "TeamSettings", members: list["ChannelSettings"]) -> str:
    return team.currency or members[0].currency


def summary(team: "TeamSettings", members: list[tuple["ChannelSettings", ChannelState]]) -> dict[str, Any]:
    """The team as clients see it (API.md §7 ``GET /api/v1/teams/{team}``, the ``team`` event)."""
    currency = currency_of(team, [cfg for cfg, _ in members])
    locale = members[0][0].locale  # the first member's way of writing amounts, for ``display``

    def amount(minor: int) -> str:
        return money.to_decimal_string(minor, currency)

    def display(minor: int) -> str:
        return money.format_amount(minor, currency, locale)

    raised = sum(st.totals["raised"] for _, st in members)
    matched = sum(st.totals["matched"] for _, st in members)
    goal = money.parse_amount(team.goal, currency)
    total = raised + matched
    rows = [{"channel": cfg.id, "name": cfg.name, "raised": amount(st.totals["raised"]),
             "matched": amount(st.totals["matched"]),
             "total": amount(st.totals["raised"] + st.totals["matched"]), "count": st.totals["count"],
             "display": {"raised": display(st.totals["raised"]),
                         "total": display(st.totals["raised"] + st.totals["matched"])}}
            for cfg, st in members]
    return {
        "id": team.id, "name": team.name, "currency": currency,
        "goal": amount(goal), "raised": amount(raised), "matched": amount(matched), "total": amount(total),
        "count": sum(st.totals["count"] for _, st in members),
        "percent": (total * 10000 // goal) / 100,  # basis points from integers, as for a campaign
        "members": rows,
        "display": {"goal": display(goal), "raised": display(raised), "matched": display(matched),
                    "total": display(total)},
    }


def announce(state: ChannelState, now: int, team: dict[str, Any]) -> Change:
    """Log a ``team`` event on a member channel (with its seq, so it is replayed like any other)."""
    change = Change.begin(state, now)
    change.emit("team", OVERLAY, {"team": team})
    return change


def moves_totals(change: Change) -> bool:
    """Whether the channel's totals may have moved: its teams are then announced again.
    A counted donation publishes ``donation`` (approved) or ``progress`` (held); a refund or a
    goal change ``progress``; a test donation, a pending pledge or an alert neither."""
    return any(e.type == "progress" or (e.type == "donation" and e.audience == OVERLAY
                                        and not e.data["donation"]["test"]) for e in change.events)
