"""Teams: channels raising toward one total. Pure: configs and channel states in, JSON shapes out.

A team's total is the sum of its members' campaign totals (``raised``, ``matched``,
``count``). The store keeps it as an aggregate, moved by each member's commit by the
difference between the member's totals before and after (``totals_moved``): a donation,
a refund, a held donation or a goal change moves it in O(1), however many members.
"""
from __future__ import annotations

from typing import Any

from overlay.domain import money
from overlay.domain.state import OVERLAY, Change
from overlay.settings.channel import ChannelSettings
from overlay.settings.teams import TeamSettings


def currency_of(team: "TeamSettings", members: list["ChannelSettings"]) -> str:
    return team.currency or members[0].currency


LEADERBOARD = 10     # rows of ``leaderboard``: the top members by raised
EVERY_MEMBER_UP_TO = 100  # events and snapshots list every member only for a team this small
RECORD_ONLY = ("created_at", "updated_at", "version")


def settings_part(record: dict[str, Any]) -> dict[str, Any]:
    """A stored team's record without what the store adds: a ``teams[]`` entry of config.yaml."""
    return {k: v for k, v in record.items() if k not in RECORD_ONLY}


TOTALS = ("raised", "matched", "count")


def totals_moved(changes: list[Change]) -> tuple[int, int, int]:
    """How much a batch of a member's changes moves its teams' totals: (raised, matched, count)."""
    before, after = changes[0].base_totals, changes[-1].state.totals
    if before is None:
        raise ValueError("a change made without Change.begin has no base totals")
    return tuple(after[k] - before[k] for k in TOTALS)  # type: ignore[return-value]


def summary(team: "TeamSettings", members: list[tuple["ChannelSettings", dict[str, int]]],
            every_member: bool = True, totals: dict[str, int] | None = None,
            locale: str | None = None) -> dict[str, Any]:
    """The team as clients see it (API.md §7 ``GET /api/v1/teams/{team}``, the ``team`` event).
    ``members``: each member with its totals (raised, matched, count). Without ``every_member``,
    ``members`` is empty for a large team: ``leaderboard`` shows the top.
    ``totals``: the team's aggregate as stored (raised, matched, count); None: summed over ``members``.
    ``locale``: how ``display`` writes amounts (a member's overlays: its own); None: the first member's."""
    currency = team.currency or (members[0][0].currency if members else "EUR")
    locale = locale or (members[0][0].locale if members else "en_US")

    def amount(minor: int) -> str:
        return money.to_decimal_string(minor, currency)

    def display(minor: int) -> str:
        return money.format_amount(minor, currency, locale)

    def row(cfg: "ChannelSettings", st: dict[str, int]) -> dict[str, Any]:
        raised, matched = st["raised"], st["matched"]
        return {"channel": cfg.id, "name": cfg.name, "raised": amount(raised), "matched": amount(matched),
                "total": amount(raised + matched), "count": st["count"],
                "display": {"raised": display(raised), "total": display(raised + matched)}}

    if totals is None:
        totals = {k: sum(st[k] for _, st in members) for k in TOTALS}
    raised, matched = totals["raised"], totals["matched"]
    goal = money.parse_amount(team.goal, currency)
    total = raised + matched
    top = sorted(members, key=lambda m: (-m[1]["raised"], m[0].id))[:LEADERBOARD]
    listed = every_member or len(members) <= EVERY_MEMBER_UP_TO
    return {
        "id": team.id, "name": team.name, "currency": currency,
        "goal": amount(goal), "raised": amount(raised), "matched": amount(matched), "total": amount(total),
        "count": totals["count"],
        "percent": (total * 10000 // goal) / 100,  # basis points from integers, as for a campaign
        "members": [row(cfg, st) for cfg, st in members] if listed else [],
        "leaderboard": [row(cfg, st) for cfg, st in top],
        "display": {"goal": display(goal), "raised": display(raised), "matched": display(matched),
                    "total": display(total)},
    }


def moves_totals(change: Change) -> bool:
    """Whether the channel's totals may have moved: its teams are then announced again.
    A counted donation publishes ``donation`` (approved) or ``progress`` (held); a refund or a
    goal change ``progress``; a test donation, a pending pledge or an alert neither."""
    return any(e.type == "progress" or (e.type == "donation" and e.audience == OVERLAY
                                        and not e.data["donation"]["test"]) for e in change.events)
