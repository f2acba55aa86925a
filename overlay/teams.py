"""Team totals over member channels' services: read them, and announce them on every member.

The team total is computed from the members' committed states whenever it is asked for
(``GET /api/v1/teams/{team}``, the ``state`` snapshot), so it is always exact, in every
process. After this process commits a change that may move a member's totals, it logs a
``team`` event on each member channel, through that channel's ordered writer:

- only the process that committed announces, so an event is never sent twice;
- the payload is computed inside the member's write turn, so the last ``team`` event a
  channel logs was computed after every commit that preceded it (Redis publishes commits
  in order, and a writer follows them before it may commit), so it shows the right total;
- announcements coalesce: a burst of donations costs one announcement per member, not one
  per donation.

If a process dies between a donation and its announcement, overlays show the total of the
next announcement (or a reload); the API and snapshots are right all along.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from overlay.config import Config, TeamSettings
from overlay.domain import teams
from overlay.domain.state import Change, ChannelState
from overlay.service import ChannelService
from overlay.store.base import StoreUnavailable

log = logging.getLogger(__name__)


class TeamBoard:
    def __init__(self, config: Config, service: Callable[[str], ChannelService | None]):
        """``service``: the registry's; members are config channels (checked when it loads), never None."""
        self.teams = {t.id: t for t in config.teams}
        self.of_channel: dict[str, list[TeamSettings]] = {}
        for team in config.teams:
            for channel in team.channels:
                self.of_channel.setdefault(channel, []).append(team)
        services = {channel: service(channel) for channel in self.of_channel}
        self.services = {channel: svc for channel, svc in services.items() if svc is not None}
        self._dirty: set[str] = set()
        self._runner: asyncio.Task[None] | None = None
        self._announced: dict[tuple[str, str], dict[str, Any]] = {}  # (team, channel) -> last payload
        for channel in self.of_channel:
            services[channel].committed.append(self._committed_on(channel))
            services[channel].snapshot_parts.append(self._snapshot_part(channel))

    async def summary(self, team: TeamSettings, own: tuple[str, ChannelState] | None = None) -> dict[str, Any]:
        """``own``: a member whose state is the one being written (inside its op), not the committed one."""
        members = []
        for channel in team.channels:
            svc = self.services[channel]
            state = own[1] if own is not None and own[0] == channel else await svc.current()
            members.append((svc.cfg, state))
        return teams.summary(team, members)

    def _snapshot_part(self, channel: str):  # noqa: ANN202
        async def part(state: ChannelState) -> dict[str, Any]:
            return {"teams": [await self.summary(t, (channel, state)) for t in self.of_channel[channel]]}
        return part

    def _committed_on(self, channel: str):  # noqa: ANN202
        def committed(change: Change) -> None:
            if not teams.moves_totals(change):
                return
            self._dirty.update(t.id for t in self.of_channel[channel])
            if self._runner is None or self._runner.done():
                self._runner = asyncio.create_task(self._announce_dirty(), name="teams-announce")
        return committed

    async def _announce_dirty(self) -> None:
        while self._dirty:
            team_ids, self._dirty = sorted(self._dirty), set()
            for team_id in team_ids:
                team = self.teams[team_id]
                for channel in team.channels:
                    try:
                        await self._announce(team, channel)
                    except StoreUnavailable as exc:  # the API still answers right once the store is back
                        log.warning("team %s not announced on %s: %s", team.id, channel, exc)
                    except Exception as exc:  # noqa: BLE001 - shutting down (503) or a bug: keep the others going
                        log.warning("team %s not announced on %s: %s", team.id, channel, type(exc).__name__)

    async def _announce(self, team: TeamSettings, channel: str) -> None:
        async def op(state: ChannelState, now: int) -> Change | None:
            payload = await self.summary(team, (channel, state))
            if self._announced.get((team.id, channel)) == payload:
                return None  # a test donation, a title change: nothing a team shows moved
            return teams.announce(state, now, payload)
        change = await self.services[channel].mutate(op)
        if change is not None:  # remembered once committed: a batch lost to a conflict runs op again
            self._announced[(team.id, channel)] = change.events[-1].data["team"]

    async def close(self) -> None:
        if self._runner is not None and not self._runner.done():
            self._runner.cancel()
            await asyncio.gather(self._runner, return_exceptions=True)
