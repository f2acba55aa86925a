"""Team matches over member channels' services (docs/teams.md "Team match").

A member's donation asks the store for its share of the team's cap inside the op its channel's
writer runs (``share``): the store grants ``min(want, cap - used)`` atomically, once per
donation id, so every member, process and server takes from one exact cap, and a batch the
writer computes again takes nothing twice. The service gives a claim back (``release``) when
the donation did not get committed with it, and when the donation is refunded.
A test donation never claims: one with ``simulate_match`` shows what the match would give.
"""
from __future__ import annotations

from typing import Any

from overlay.config import ChannelSettings, TeamSettings
from overlay.domain import matching, team_match
from overlay.domain.state import ChannelState
from overlay.domain.team_match import TeamShare
from overlay.service.channel import ChannelService
from overlay.clock import now_ms
from overlay.service.teams import TeamBoard


class TeamMatcher:
    def __init__(self, board: TeamBoard):
        self.board = board
        self.store = board.registry.store
        for svc in board.registry.services():
            self._watch(svc)
        board.registry.on_service(self._watch)
        board.summary_parts.append(self.summary_part)

    def _watch(self, svc: ChannelService) -> None:
        svc.team_match = self
        svc.snapshot_parts.append(self._snapshot_part(svc))

    def team_of(self, channel: str) -> TeamSettings | None:
        """The team whose match a channel's donations take: its first team (by id) with one."""
        with_match = [t for t in self.board.of_channel.get(channel, []) if t.match is not None]
        return min(with_match, key=lambda t: t.id) if with_match else None

    async def _match(self, team: TeamSettings, currency: str, used: int | None = None) -> dict[str, Any]:
        assert team.match is not None
        used = await self.store.team_match_used(team.id) if used is None else used
        return team_match.of_settings(team.match, team.currency or currency, used)

    async def share(self, cfg: ChannelSettings, rec: dict[str, Any], now: int) -> TeamShare | None:
        """What the channel's team match gives a donation being counted (claimed unless a test)."""
        team = self.team_of(cfg.id)
        if team is None or (rec["test"] and not rec.get("simulate_match")):
            return None
        if rec["test"]:
            m = await self._match(team, cfg.currency)
            grant = matching.match_share(m, rec["amount"], now)
        else:
            m = await self._match(team, cfg.currency, 0)
            ask = team_match.want(m, rec["amount"], now)
            if not ask:
                return None
            grant, m["used"] = await self.store.claim_team_match(team.id, rec["id"], ask, m["cap"])
        return TeamShare(team.id, grant, team_match.payload(cfg, m, team.id, now))

    async def used(self, team_id: str) -> int:
        """What the team's members took of its cap so far."""
        return await self.store.team_match_used(team_id)

    async def release(self, team_id: str, donation_id: str) -> None:
        await self.store.release_team_match(team_id, donation_id)

    async def forget(self, team_id: str) -> None:
        """The team's match was removed or replaced by a new one: its cap starts from zero."""
        await self.store.clear_team_match(team_id)

    async def summary_part(self, team: TeamSettings, members: list[tuple[ChannelSettings, dict[str, int]]],
                           reader: ChannelSettings | None) -> dict[str, Any]:
        """The team object's ``match`` (API.md §8), written as ``reader`` (a member) writes amounts."""
        if team.match is None or reader is None:
            return {"match": team_match.absent(team.id)}
        return {"match": team_match.payload(reader, await self._match(team, reader.currency), team.id, now_ms())}

    def _snapshot_part(self, svc: ChannelService):  # noqa: ANN202
        """Overlays: ``match`` is the one they show (the channel's own while active, else the team's).
        Moderators: ``match`` stays the channel's own (the dashboard's form edits it, even scheduled
        or used up) and ``team_match`` is the team's (null outside a team with a match)."""
        async def part(state: ChannelState, moderator: bool) -> dict[str, Any]:
            team = self.team_of(svc.cfg.id)
            if team is None:
                return {"team_match": None} if moderator else {}
            now = now_ms()
            theirs = team_match.payload(svc.cfg, await self._match(team, svc.cfg.currency), team.id, now)
            if moderator:
                return {"team_match": theirs}
            return {"match": team_match.shown(svc.cfg, state.match, theirs, now)}
        return part
