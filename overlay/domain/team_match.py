"""A team's match: one sponsor and one cap shared by every member channel. Pure rules.

The cap's ``used`` lives in the store (overlay.store.team_match), claimed atomically per
donation; here are the shapes: the match dict ``overlay.domain.matching`` reads (minor
units, epoch ms), what a donation asks the cap for, and the ``match`` payload members show.
A channel's own match and its team's both apply to a gift (docs/teams.md "Team match").
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from overlay.domain import matching, money, wire
from overlay.settings.channel import ChannelSettings, MatchSettings


@dataclass(frozen=True)
class TeamShare:
    """What a team's match gives one donation: ``grant`` minor units (claimed from the cap,
    or only simulated for a test), and the team's ``match`` payload once it is taken."""
    team: str
    grant: int
    match: dict[str, Any]


def of_settings(ms: MatchSettings, currency: str, used: int) -> dict[str, Any]:
    """The settings of a team's match as the match dict of ``overlay.domain.matching``."""
    return {"sponsor": ms.sponsor, "multiplier": wire.plain_decimal(ms.multiplier),
            "cap": money.parse_amount(ms.cap, currency), "used": used,
            "starts_at": wire.to_ms(ms.starts_at) if ms.starts_at else None,
            "ends_at": wire.to_ms(ms.ends_at) if ms.ends_at else None}


def want(m: dict[str, Any], amount: int, now_ms: int) -> int:
    """What a gift asks of the cap while the match is open; the store grants what is left."""
    return matching.match_share(dict(m, used=0), amount, now_ms)


def payload(cfg: ChannelSettings, m: dict[str, Any], team_id: str, now_ms: int) -> dict[str, Any]:
    """The wire ``match`` of a team's match (API.md §8), in a member's currency and locale."""
    return {**wire.match(cfg, m, now_ms), "team": team_id}


def absent(team_id: str) -> dict[str, Any]:
    """The ``match`` of a team without one: every field null, as a channel's."""
    return {"active": False, "sponsor": None, "multiplier": None, "cap": None, "used": None, "remaining": None,
            "starts_at": None, "ends_at": None, "display": None, "team": team_id}


def shown(cfg: ChannelSettings, own: dict[str, Any] | None, team: dict[str, Any] | None,
          now_ms: int) -> dict[str, Any]:
    """The ``match`` a member's overlays show: its own while that one is active, else its team's."""
    if team is None or matching.is_match_active(own, now_ms):
        return wire.match(cfg, own, now_ms)
    return team


def own_part(rec: dict[str, Any]) -> int:
    """What of a donation's ``matched`` came from its channel's own match."""
    return rec["matched"] - rec.get("team_matched", 0)
