"""Team totals over member channels' services: read them, and announce them on every member.

Teams come from config.yaml (read-only) and from the admin API (stored: ``overlay.store.teams``);
a stored team written on any process reaches this one through the store's channel
notifications. The team's totals are an aggregate in the store, moved by each member's commit
(``overlay.store.team_totals``), so reading them is O(1) in every process. This board rebuilds
a team's aggregate (O(members)) when its members change: a team written (here or, through a
notification, on another process), a member disabled, enabled or deleted, and at start-up.

After this process commits a change that may move a member's totals, it sends the team to the
members' clients as a ``team`` reading (``Store.send_readings``): one message per member
channel, published where the channel's commits are, neither logged nor a commit, so a team of
10,000 costs 10,000 small publishes a round, not 10,000 commits. A client that connects reads
the team in its snapshot; one that comes back with a backlog is sent it after the backlog.

- only the process that committed announces, so a reading is never sent twice;
- announcements coalesce per team, at most one round per ``ANNOUNCE_EVERY_S``: a burst of
  donations on many members costs one announcement per member, not one per donation;
- a round computes the team once per locale among its members, from committed states; a
  commit after that marks the team again, so the last round always follows the last commit.

If a process dies between a donation and its announcement, overlays show the total of the
next announcement (or a reload); the API and snapshots are right all along.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from overlay.config import ChannelSettings, Config, TeamSettings
from overlay.domain import teams
from overlay.domain.state import Change, ChannelState
from overlay.registry import ChannelRegistry
from overlay.service.channel import ChannelService
from overlay.store.base import StoreUnavailable
from overlay.store.teams import team_notice

log = logging.getLogger(__name__)
ANNOUNCE_EVERY_S = 1.0
# A snapshot's team member rows and leaderboard may be this old (the totals never are): the
# members of a team of thousands are read once for all the snapshots of the moment, not per snapshot.
MEMBERS_FRESH_S = 1.0


class TeamBoard:
    def __init__(self, config: Config, registry: ChannelRegistry):
        self.registry = registry
        self._config = {t.id: t for t in config.teams}
        self._stored: dict[str, TeamSettings] = {}
        self.of_channel: dict[str, list[TeamSettings]] = {}
        self._index()
        self._dirty: set[str] = set()
        self._runner: asyncio.Task[None] | None = None
        self._announced: dict[tuple[str, str], dict[str, Any]] = {}  # (team, locale) -> last payload
        self._rebuilding: asyncio.Task[None] | None = None
        self._to_rebuild: set[str] = set()
        self._stale: set[str] = set()  # teams whose last rebuild here failed
        # team -> (the team as read, when, the read of its members' totals): shared by snapshots
        self._member_reads: dict[str, tuple[TeamSettings, float, asyncio.Future[Any]]] = {}
        # Each adds keys to the team object from its members, written for one of them (the reader's
        # channel: its currency and locale; None: no member), as ``match`` (overlay.service.team_match).
        self.summary_parts: list[Callable[[TeamSettings, list[tuple[Any, dict[str, int]]], Any],
                                          Awaitable[dict[str, Any]]]] = []
        for svc in registry.services():
            self._watch(svc)
        registry.on_service(self._watch)
        registry.on_change(self._member_changed)
        registry.on_enabled(lambda channel: self._member_changed(channel, None, True))
        registry.store.watch_channels(self.reload)

    @property
    def teams(self) -> dict[str, TeamSettings]:
        return {**self._stored, **self._config}

    def in_config(self, team_id: str) -> bool:
        return team_id in self._config

    def _index(self) -> None:
        of_channel: dict[str, list[TeamSettings]] = {}
        for team in self.teams.values():
            for channel in team.channels:
                of_channel.setdefault(channel, []).append(team)
        self.of_channel = of_channel

    def _watch(self, svc: ChannelService) -> None:
        svc.committed.append(self._committed_on(svc.cfg.id))
        svc.snapshot_parts.append(self._snapshot_part(svc.cfg))
        svc.reading_parts.append(self._reading_part(svc.cfg))

    # -- stored teams ----------------------------------------------------------------------
    async def stored(self, team_id: str) -> dict[str, Any] | None:
        """The admin API's record of a team (None: there is none)."""
        return await self.registry.store.get_team(team_id)

    async def stored_records(self) -> list[dict[str, Any]]:
        return await self.registry.store.list_teams()

    async def put(self, team_id: str, record: dict[str, Any], *, create: bool) -> bool:
        """Store a team's record (``create``: False if one exists); tell the board with ``changed``."""
        return await self.registry.store.put_team(team_id, record, create=create)

    async def delete(self, team_id: str) -> None:
        await self.registry.store.delete_team(team_id)

    async def reload(self, notice: str | None = None) -> None:
        """A channel notification: one stored team's (``team:<id>``), or None: read them all."""
        if notice is None:
            records = await self.registry.store.list_teams()
            gone = set(self._stored) - {r["id"] for r in records}
            self._stored = {}
            for record in records:
                self.apply(record["id"], record)
            self._index()
            for team_id in sorted(gone | set(self.teams)):  # at start-up, or after missed notifications
                await self.rebuild(team_id)
        elif (team_id := team_notice(notice)) is not None:
            await self.changed(team_id, await self.registry.store.get_team(team_id))

    async def changed(self, team_id: str, record: dict[str, Any] | None, *, announce: bool = False) -> None:
        """A stored team written (None: deleted): take it, and rebuild its totals if its members changed
        (or its last rebuild here failed). ``announce``: this process made the change, and tells overlays."""
        before = self.teams.get(team_id)
        self.apply(team_id, record)
        after = self.teams.get(team_id)
        if (before.channels if before else None) != (after.channels if after else None) or team_id in self._stale:
            await self.rebuild(team_id)
        if announce and after is not None:
            self._mark(team_id)

    def apply(self, team_id: str, record: dict[str, Any] | None) -> None:
        """Take a stored team's record (None: deleted) as the truth about it."""
        self._stored.pop(team_id, None)
        if record is not None and team_id not in self._config:
            try:
                self._stored[team_id] = TeamSettings.model_validate(teams.settings_part(record))
            except ValueError as exc:  # a record written by a newer version, say: keep it off
                log.error("stored team %s is not valid here and stays off: %s", team_id, exc)
        self._index()

    # -- the stored aggregate -------------------------------------------------------------
    async def rebuild(self, team_id: str) -> None:
        """Make the team's aggregate count its members of now (none for a deleted team)."""
        team = self.teams.get(team_id)
        members = list(team.channels) if team is not None else []
        configured = {c for c in members if self.registry.in_config(c)}
        self._stale.add(team_id)  # until it is done: a failed rebuild is tried again at the next notification
        await self.registry.store.rebuild_team_totals(team_id, members, configured)
        self._stale.discard(team_id)

    def _member_changed(self, channel: str, old: Any, new: Any) -> None:
        if (old is None) == (new is None) or channel not in self.of_channel:
            return  # not disabled, enabled or deleted; or in no team
        self._to_rebuild.update(t.id for t in self.of_channel[channel])
        if self._rebuilding is None or self._rebuilding.done():
            self._rebuilding = asyncio.create_task(self._rebuild_marked(), name="teams-rebuild")

    async def _rebuild_marked(self) -> None:
        while self._to_rebuild:
            team_id = min(self._to_rebuild)
            self._to_rebuild.discard(team_id)
            try:
                await self.rebuild(team_id)
            except StoreUnavailable as exc:  # rebuilt again at the next change or start-up
                log.warning("team %s totals not rebuilt: %s", team_id, exc)

    async def totals(self, team: TeamSettings) -> dict[str, int]:
        """The team's aggregate as stored (built first if it never was)."""
        found = await self.registry.store.team_totals(team.id)
        if found is None:
            await self.rebuild(team.id)
            found = await self.registry.store.team_totals(team.id)
        assert found is not None
        return found

    # -- reading ---------------------------------------------------------------------------
    async def summary(self, team: TeamSettings, own: tuple[str, ChannelState] | None = None,
                      *, every_member: bool = True, reader: ChannelSettings | None = None,
                      max_age_s: float = 0.0) -> dict[str, Any]:
        """``own``: a member whose state is the one being written (inside its op), not the committed one.
        ``reader``: the member channel whose overlays read it, whose locale writes ``display`` (None:
        the first member's). Members that are disabled or deleted count nowhere until they are back.
        The totals are the stored aggregate; the member rows and the leaderboard come from one read of
        every member's totals (O(members), one store round trip), made at most ``max_age_s`` ago."""
        totals = await self.totals(team)  # first: the members' rows are then at least as new
        members = await self._members(team, own, max_age_s=max_age_s)
        return await self._summary(team, members, every_member, reader, totals)

    async def _members(self, team: TeamSettings, own: tuple[str, ChannelState] | None, *,
                       max_age_s: float = 0.0) -> list[tuple[ChannelSettings, dict[str, int]]]:
        """Each member's committed totals (``own``'s from its state being written); read at most
        ``max_age_s`` ago (the read then is shared by everyone who asks meanwhile)."""
        members = await self._recent_members(team, max_age_s)
        if own is not None:
            members = [(cfg, own[1].totals if cfg.id == own[0] else totals) for cfg, totals in members]
        return members

    async def _recent_members(self, team: TeamSettings, max_age_s: float
                              ) -> list[tuple[ChannelSettings, dict[str, int]]]:
        now = time.monotonic()
        last = self._member_reads.get(team.id)
        if last is None or last[0] is not team or now - last[1] > max_age_s:
            read = asyncio.ensure_future(self._read_members(team))
            last = self._member_reads[team.id] = (team, now, read)

            def forget_failed(done: asyncio.Future[Any]) -> None:
                if (done.cancelled() or done.exception() is not None) and self._member_reads.get(team.id) is last:
                    del self._member_reads[team.id]
            read.add_done_callback(forget_failed)
        return await asyncio.shield(last[2])

    async def _read_members(self, team: TeamSettings) -> list[tuple[ChannelSettings, dict[str, int]]]:
        """From memory where this process holds a member's state current, the others in one store read."""
        members: list[tuple[ChannelSettings, dict[str, int] | None]] = []
        for channel in team.channels:
            cfg = self.registry.settings(channel)
            if cfg is None:  # disabled or deleted
                continue
            svc = self.registry.loaded(cfg.id)
            state = svc.held() if svc is not None else None
            members.append((cfg, state.totals if state is not None else None))
        unread = [cfg.id for cfg, totals in members if totals is None]
        stored = await self.registry.store.channel_totals(unread) if unread else {}
        return [(cfg, totals if totals is not None else stored.get(cfg.id) or dict.fromkeys(teams.TOTALS, 0))
                for cfg, totals in members]

    async def _summary(self, team: TeamSettings, members: list[tuple[ChannelSettings, dict[str, int]]],
                       every_member: bool, reader: ChannelSettings | None, totals: dict[str, int]
                       ) -> dict[str, Any]:
        reader = reader or (members[0][0] if members else None)
        out = teams.summary(team, members, every_member=every_member, totals=totals,
                            locale=reader.locale if reader else None)
        for part in self.summary_parts:
            out.update(await part(team, members, reader))
        return out

    def _snapshot_part(self, cfg: ChannelSettings):  # noqa: ANN202
        async def part(state: ChannelState, moderator: bool) -> dict[str, Any]:
            return {"teams": [await self.summary(t, (cfg.id, state), every_member=False, reader=cfg,
                                                 max_age_s=MEMBERS_FRESH_S)
                              for t in self.of_channel.get(cfg.id, [])]}
        return part

    def _reading_part(self, cfg: ChannelSettings):  # noqa: ANN202
        async def part() -> list[tuple[str, dict[str, Any]]]:
            return [("team", {"team": await self.summary(t, None, every_member=False, reader=cfg,
                                                         max_age_s=MEMBERS_FRESH_S)})
                    for t in self.of_channel.get(cfg.id, [])]
        return part

    # -- announcing ------------------------------------------------------------------------
    def _committed_on(self, channel: str):  # noqa: ANN202
        def committed(change: Change) -> None:
            if channel not in self.of_channel or not teams.moves_totals(change):
                return
            self._mark(*(t.id for t in self.of_channel[channel]))
        return committed

    def _mark(self, *team_ids: str) -> None:
        self._dirty.update(team_ids)
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._announce_dirty(), name="teams-announce")

    async def _announce_dirty(self) -> None:
        while self._dirty:
            started = time.monotonic()
            team_ids, self._dirty = sorted(self._dirty), set()
            for team_id in team_ids:
                team = self.teams.get(team_id)
                if team is not None:
                    await self._announce_team(team)
            if self._dirty:  # a bounded rate per team, however many members donate meanwhile
                await asyncio.sleep(max(0.0, ANNOUNCE_EVERY_S - (time.monotonic() - started)))

    async def _announce_team(self, team: TeamSettings) -> None:
        """One payload per locale among the members (each member's overlays read amounts its way),
        from one read of the members and the totals; sent to the members whose payload moved."""
        try:
            totals = await self.totals(team)  # first: the members' rows are then at least as new
            read = await self._members(team, None)
            payloads: dict[str, dict[str, Any]] = {}
            members: dict[str, list[str]] = {}
            for cfg, _ in read:
                if cfg.locale not in payloads:
                    payloads[cfg.locale] = await self._summary(team, read, False, cfg, totals)
                members.setdefault(cfg.locale, []).append(cfg.id)
            moved = [locale for locale, payload in payloads.items()
                     if self._announced.get((team.id, locale)) != payload]
            if moved:  # (not after a test donation or a title change: nothing a team shows moved)
                await self.registry.store.send_readings(
                    "team", [(members[locale], {"team": payloads[locale]}) for locale in moved])
        except StoreUnavailable as exc:  # the API still answers right once the store is back
            log.warning("team %s not announced: %s", team.id, exc)
            return
        except Exception:  # a bug, or a reply nobody expected: the other teams are still announced
            log.exception("team %s not announced", team.id)
            return
        for locale in moved:
            self._announced[(team.id, locale)] = payloads[locale]

    async def close(self) -> None:
        for task in (self._runner, self._rebuilding):
            if task is not None and not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
