"""A channel's operations: domain functions queued on the channel's ordered writer."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

from overlay.domain import donations, incentive_ops, overlays, timer, timing, wire
from overlay import metrics
from overlay.config import ChannelSettings
from overlay.domain.donations import DonationError, DonationInput
from overlay.domain.state import Change, ChannelState, Event
from overlay.domain.team_match import TeamShare
from overlay.store.base import KEEP_EVENTS as KEEP_EVENTS, Store  # KEEP_EVENTS: how far a replay reaches back
from overlay.clock import now_ms
from overlay.service.incentives import IncentiveOps
from overlay.service.presets import PresetOps
from overlay.service.records import ChannelRecords
from overlay.service.reads import donation
from overlay.store.reads import Reads
from overlay.store.writer import ChannelWriter, Op


class ShuttingDown(DonationError):
    """A write still waiting in the channel's queue while the process drains: refused, nothing stored."""

    def __init__(self) -> None:
        super().__init__("shutting_down", "the server is restarting; retry shortly", "unavailable")


class ChannelService(IncentiveOps, PresetOps, ChannelRecords):
    """A channel's operations and reads; its incentive and preset operations and its stored
    records (donations, presets, integrations) come from the mixins."""

    def __init__(self, cfg: ChannelSettings, store: Store):
        self.cfg = cfg
        self._store = store
        self.writer = ChannelWriter(cfg, store)
        # Called with each Change this process committed (teams re-announce their totals).
        self.committed: list[Callable[[Change], None]] = []
        # Awaited with the seq of each commit before its callers are answered: the fan-out
        # says it handed the commit's events to the connected clients (realtime/namespaces.py).
        self.fan_out: list[Callable[[int], Awaitable[None]]] = []
        # Each adds keys to the ``state`` snapshot (``teams``, §7), given the state and whether
        # the snapshot is a moderator's.
        self.snapshot_parts: list[Callable[[ChannelState, bool], Awaitable[dict[str, Any]]]] = []
        # Each gives the readings (``Store.send_readings``: name, data) a client is sent after a
        # backlog, when it comes back with the seq it last saw: those it missed are not logged.
        self.reading_parts: list[Callable[[], Awaitable[list[tuple[str, dict[str, Any]]]]]] = []
        # The team match its donations take from (overlay.service.team_match.TeamMatcher), if any.
        self.team_match: Any = None

    def reconfigure(self, cfg: ChannelSettings) -> None:
        """New settings for the same channel (the admin API): the next operation uses them."""
        self.cfg = self.writer.cfg = cfg

    def refuse_writes(self) -> None:
        """Shutting down: writes still waiting in the queue are answered 503, not stored."""
        self.writer.refuse(ShuttingDown())

    async def mutate(self, op: Op, *, externals: tuple[tuple[str, str], ...] = ()) -> Change | None:
        """Run ``op`` in this channel's order; its Change once it is durable and its events
        were handed to the fan-out. ``externals``: the idempotency keys ``op`` looks up with
        ``reads.external`` (fetched per batch)."""
        change = await self.writer.submit(op, externals)
        if change is not None:
            for listener in self.committed:
                listener(change)
            for handed_over in self.fan_out:  # the overlays first, then the sender (docs/write-path.md)
                await handed_over(change.state.seq)
        return change

    async def current(self) -> ChannelState:
        """The channel's committed state, from memory (read-only)."""
        return await self.writer.current()

    def held(self) -> ChannelState | None:
        """The committed state if this process holds it current without a store read, else None."""
        return self.writer.held()

    # -- hearing the channel's commits (the store's subscriptions, overlay.store.base) -------
    async def attend(self) -> None:
        """Hear this channel's commits from now on (a client joined here); returns once heard."""
        await self._store.attend(self.cfg.id)

    def leave(self) -> None:
        """One reason fewer to hear this channel's commits (a client left)."""
        self._store.leave(self.cfg.id)

    def hearing(self) -> int | None:
        """None while this channel's commits may not reach this process; else a number that
        changes each time hearing starts again."""
        return self._store.hearing(self.cfg.id)

    async def until_heard(self) -> None:
        await self._store.until_heard(self.cfg.id)

    async def events_after(self, seq: int) -> list[Event] | None:
        """The replay log after ``seq`` (None: it no longer reaches back that far)."""
        return await self._store.events_after(self.cfg.id, seq)

    async def check_incentive(self, inp: DonationInput) -> None:
        """Refuse now what booking would refuse over the donation's incentive (a closed poll, a
        reward below its minimum), before the donor pays on Stripe's page. Nothing is written."""
        if inp.incentive is None:
            return
        now = now_ms()
        incentive_ops.attach(self.cfg, await self.writer.current(), donations.new_record(self.cfg, inp, now),
                             inp.incentive, now)

    async def donate(self, inp: DonationInput, *, pledge: bool = False) -> tuple[dict[str, Any], bool]:
        """Accept a donation: (record, created). A known (source, external_id) returns the stored one.
        ``pledge``: a promise from the donate page, stored pending until a moderator confirms it."""
        rec = donations.new_record(self.cfg, inp, now_ms())
        existing: dict[str, Any] | None = None

        async def op(state: ChannelState, now: int, reads: Reads) -> Change | None:
            nonlocal existing
            if inp.external_id is not None:
                existing = await reads.external(inp.source, inp.external_id)
                if existing is not None:
                    return None
            chosen = incentive_ops.attach(self.cfg, state, rec, inp.incentive, now)
            if pledge:
                change = donations.record_pledge(self.cfg, state, chosen, now)
                incentive_ops.hold(self.cfg, change, change.donations[0], 1)
                return change
            team = await self._team_share(chosen, now, claims)
            change = donations.accept_donation(self.cfg, state, chosen, now, team)
            incentive_ops.book(self.cfg, change, change.donations[0])
            return change

        keys = ((inp.source, inp.external_id),) if inp.external_id is not None else ()
        claims: list[TeamShare] = []
        change = await self._claiming(claims, rec["id"], self.mutate(op, externals=keys))
        if change is None:
            assert existing is not None
            return existing, False
        stored = change.donations[0]
        metrics.DONATIONS.labels(self.cfg.id, stored["source"], stored["status"]).inc()
        return stored, True

    async def moderate(self, donation_id: str, verdict: str) -> dict[str, Any]:
        async def op(state: ChannelState, now: int, reads: Reads) -> Change:
            rec = await donation(reads, donation_id)
            change = donations.moderate(self.cfg, state, rec, verdict, now)
            incentive_ops.hold(self.cfg, change, rec, -1)  # a rejected pledge no longer points anywhere
            return change
        change = await self.mutate(op)
        assert change is not None
        return change.donations[0]

    async def confirm(self, donation_id: str) -> dict[str, Any]:
        """Count a pending pledge now (409 if it is not pending, e.g. confirmed already)."""
        async def op(state: ChannelState, now: int, reads: Reads) -> Change:
            pledged = await donation(reads, donation_id)
            team = await self._team_share(pledged, now, claims) if pledged["status"] == "pending" else None
            change = donations.confirm(self.cfg, state, pledged, now, team)
            incentive_ops.hold(self.cfg, change, pledged, -1)
            # Chosen while open: it counts, unless a limit now refuses it (409, the pledge stays pending).
            incentive_ops.book(self.cfg, change, change.donations[0])
            return change
        claims: list[TeamShare] = []
        change = await self._claiming(claims, donation_id, self.mutate(op))
        assert change is not None
        return change.donations[0]

    async def replay(self, donation_id: str) -> None:
        async def op(state: ChannelState, now: int, reads: Reads) -> Change:
            return donations.replay(self.cfg, state, await donation(reads, donation_id), now)
        await self.mutate(op)

    async def refund_donation(self, donation_id: str) -> dict[str, Any]:
        """A moderator takes a payment out of the totals (a refund or chargeback seen elsewhere)."""
        found: dict[str, Any] = {}

        async def op(state: ChannelState, now: int, reads: Reads) -> Change | None:
            nonlocal found
            found = await donation(reads, donation_id)
            return self._refund(state, found, now)
        change = await self.mutate(op)
        await self._team_refunded(change)
        return change.donations[0] if change else found

    async def refund(self, source: str, external_id: str) -> dict[str, Any] | None:
        """Take a refunded payment out of the totals; None if we never saw it."""
        found: dict[str, Any] | None = None

        async def op(state: ChannelState, now: int, reads: Reads) -> Change | None:
            nonlocal found
            found = await reads.external(source, external_id)
            return None if found is None else self._refund(state, found, now)

        change = await self.mutate(op, externals=((source, external_id),))
        await self._team_refunded(change)
        return change.donations[0] if change else found

    # -- the team match (overlay.service.team_match) -------------------------------------------------
    async def _team_share(self, rec: dict[str, Any], now: int, claims: list[TeamShare]) -> TeamShare | None:
        """The team match's part of a donation being counted, claimed from the team's cap."""
        if self.team_match is None:
            return None
        team = await self.team_match.share(self.cfg, rec, now)
        if team is not None and team.grant and not rec["test"]:
            claims.append(team)
        return team

    async def _claiming(self, claims: list[TeamShare], donation_id: str,
                        mutation: Awaitable[Change | None]) -> Change | None:
        """Run ``mutation``; give back each claim the committed donation does not hold
        (its op failed, the commit failed, or a retry found the donation stored already)."""
        change: Change | None = None
        try:
            change = await mutation
            return change
        finally:
            held = {d.get("team_match") for d in (change.donations if change else []) if d["id"] == donation_id
                    and d.get("team_matched")}
            for team_id in {c.team for c in claims} - held:
                await self.team_match.release(team_id, donation_id)

    async def _team_refunded(self, change: Change | None) -> None:
        """A refund committed: its team match part goes back to the team's cap."""
        for rec in change.donations if change else []:
            if rec.get("team_matched") and self.team_match is not None:
                await self.team_match.release(rec["team_match"], rec["id"])

    def _refund(self, state: ChannelState, rec: dict[str, Any], now: int) -> Change | None:
        change = donations.refund(self.cfg, state, rec, now)
        if change is not None:
            incentive_ops.book(self.cfg, change, rec, -1)  # rec as it was counted
        return change

    async def control(self, action: str) -> None:
        async def op(state: ChannelState, now: int, reads: Reads) -> Change:
            return donations.control_alerts(self.cfg, state, action, now)
        await self.mutate(op)

    async def reload_overlays(self, widget: str | None) -> int:
        """Ask the channel's open overlay pages to reload themselves; the request's seq."""
        async def op(state: ChannelState, now: int, reads: Reads) -> Change:
            return overlays.request_reload(state, widget, now)
        change = await self.mutate(op)
        assert change is not None
        return change.state.seq

    async def timer_action(self, action: str, seconds: int | None = None) -> tuple[dict[str, Any], int]:
        """start (``seconds`` or the configured length), pause, resume, or add ``seconds`` (may be
        negative); the timer and the seq it is current to."""
        async def op(state: ChannelState, now: int, reads: Reads) -> Change:
            if action == "start":
                return timer.start(self.cfg, state, seconds, now)
            if action == "add":
                return timer.add(self.cfg, state, seconds if seconds is not None else 0, now)
            return timer.pause(self.cfg, state, now) if action == "pause" else timer.resume(self.cfg, state, now)
        change = await self.mutate(op)
        assert change is not None
        return timer.public(self.cfg, change.state.timer), change.state.seq

    async def advance(self) -> None:
        async def op(state: ChannelState, now: int, reads: Reads) -> Change | None:
            change = Change.begin(state, now)
            return change if donations.advance_alerts(self.cfg, change) else None
        await self.mutate(op)

    async def set_match(self, sponsor: str, multiplier: Decimal, cap: int,
                        starts_at: int | None, ends_at: int | None) -> dict[str, Any]:
        async def op(state: ChannelState, now: int, reads: Reads) -> Change:
            return donations.set_match(self.cfg, state, sponsor, multiplier, cap, starts_at, ends_at, now)
        change = await self.mutate(op)
        assert change is not None
        return wire.match(self.cfg, change.state.match, change.now)

    async def end_match(self) -> dict[str, Any]:
        async def op(state: ChannelState, now: int, reads: Reads) -> Change:
            return donations.end_match(self.cfg, state, now)
        await self.mutate(op)
        return wire.match(self.cfg, None, now_ms())

    async def patch_campaign(self, title: str | None, goal: int | None,
                             milestones: list[int] | None = None) -> dict[str, Any]:
        async def op(state: ChannelState, now: int, reads: Reads) -> Change:
            return donations.patch_campaign(self.cfg, state, title, goal, now, milestones)
        change = await self.mutate(op)
        assert change is not None
        return wire.campaign(self.cfg, change.state)

    async def set_alert_timing(self, changes: dict[str, Any] | None) -> dict[str, Any]:
        """Change the channel's alert timing (None: back to config.yaml's), in order with donations;
        with a shorter gap the next alert may start at once."""
        async def op(state: ChannelState, now: int, reads: Reads) -> Change:
            change = timing.set_timing(self.cfg, state, changes, now)
            donations.advance_alerts(self.cfg, change)
            return change
        change = await self.mutate(op)
        assert change is not None
        return timing.public(self.cfg, change.state)

    async def snapshot(self, *, moderator: bool = False) -> dict[str, Any]:
        """The ``state`` payload of API.md §5, current to its ``seq``."""
        state = await self.current()
        now = now_ms()
        recent = await self._store.recent(self.cfg.id, 20)
        board = await self._store.leaderboard(self.cfg.id, 20)
        snap: dict[str, Any] = {
            "seq": state.seq, "server_time": wire.iso(now),
            "campaign": wire.campaign(self.cfg, state),
            "match": wire.match(self.cfg, state.match, now),
            "recent": [wire.donation(self.cfg, r) for r in recent],
            "leaderboard": [{"donor_name": n, "total": wire.amount(self.cfg, t), "display": wire.display(self.cfg, t)}
                            for n, t in board],
            "alerts": donations.queue_summary(state, now, detail=moderator),
            "settings": self.settings(),
            "incentives": incentive_ops.snapshot(self.cfg, state, now),
            "timer": timer.public(self.cfg, state.timer),
        }
        for part in self.snapshot_parts:
            snap.update(await part(state, moderator))
        if moderator:
            latest = await self._store.list_donations(self.cfg.id, limit=100)
            snap["donations"] = [wire.donation(self.cfg, r, private=True) for r in latest]
            snap["alert_timing"] = timing.public(self.cfg, state)
        return snap

    def settings(self) -> dict[str, Any]:
        c = self.cfg
        return {"channel": c.id, "name": c.name, "locale": c.locale, "language": c.locale.split("_")[0],
                "currency": c.currency, "widgets": c.widgets}

