"""Socket.IO: /overlay and /dashboard namespaces, ordered fan-out, snapshot and replay.

Every committed event reaches this process through the store (directly for the
embedded backend, through Redis pub/sub otherwise) and is emitted by one worker
task per channel, under that channel's lock. A client that connects is given its
snapshot or backlog and joined to the channel's room under the same lock — the
Home Assistant rule: nothing can be emitted between the backlog and the join, so
there is no gap and no duplicate (the connections: ``overlay.realtime.welcome``; what a
channel's feed holds: ``overlay.realtime.feed``).

A channel left idle (no client, nothing to write, no alert to play, no running timer) for
``idle_channel_s`` loses its feed and its service: its state is read again on next use.
Config channels' feeds start with the server when config.yaml has at most EAGER_FEEDS_UP_TO
channels; otherwise every channel's feed starts on first use.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import socketio

from overlay.domain import alerts, timing
from overlay import metrics
from overlay.settings.channel import ChannelSettings
from overlay.registry import ChannelRegistry
from overlay.clock import now_ms
from overlay.service.channel import ShuttingDown
from overlay.domain.state import OVERLAY, Event
from overlay.realtime.fastemit import Encoded, emit_many
from overlay.realtime.feed import NAMESPACES, ChannelFeed
from overlay.realtime.welcome import TokenCheck, Welcome
from overlay.realtime.stalls import StallSweeper
from overlay.errors import StoreUnavailable

log = logging.getLogger(__name__)
# Config channels whose feed (state, alert schedule) starts with the server; a bigger config.yaml
# starts none: reading 10,000 channels' state took seconds (docs/capacity.md).
EAGER_FEEDS_UP_TO = 100


class Realtime(Welcome):
    def __init__(self, sio: socketio.AsyncServer, registry: ChannelRegistry,
                 moderator_check: TokenCheck, *, stall_timeout_s: float = 30, idle_channel_s: float = 0):
        self.sio = sio
        self.idle_channel_s = idle_channel_s
        self.stalls = StallSweeper(stall_timeout_s)
        self.registry = registry
        self.feeds: dict[str, ChannelFeed] = {}
        self.moderator_check = moderator_check
        self._tasks: list[asyncio.Task[None]] = []
        self._started = False
        self._readings: set[asyncio.Task[None]] = set()  # readings being sent (on_reading)
        registry.on_change(self._channel_changed)
        registry.store.on_readings_lost(self._readings_missed)
        # Called with (namespace, sid) when a client leaves: e.g. overlay.realtime.presence.
        self.on_leave: list[Callable[[str, str], Awaitable[None]]] = []
        for ns in NAMESPACES:
            sio.on("connect", self._connect_handler(ns), namespace=ns)
            sio.on("disconnect", self._disconnect_handler(ns), namespace=ns)

    async def start(self) -> None:
        self._started = True
        self._tasks.append(asyncio.create_task(self.stalls.run(), name="stalled-connections"))
        if self.idle_channel_s > 0:
            self._tasks.append(asyncio.create_task(self._drop_idle(), name="idle-channels"))
        configured = self.registry.config_ids()
        if len(configured) > EAGER_FEEDS_UP_TO:
            return  # each config channel's state is read on first use, as a stored channel's is
        for ch in configured:  # a small config.yaml: its channels' alerts play from the start
            feed = self.feed(ch)
            if feed is not None:
                await feed.ready.wait()

    def feed(self, channel: object) -> ChannelFeed | None:
        """The channel's feed, created (and its pump and alert schedule started) on first use."""
        svc = self.registry.service(channel)  # None for a disabled channel, whose feed stays for later
        if svc is None:
            return None
        feed = self.feeds.get(svc.cfg.id)
        if feed is not None or not self._started:
            return feed
        feed = self.feeds[svc.cfg.id] = ChannelFeed(svc)
        svc.writer.on_reset(self._resync_later(feed))
        svc.fan_out.append(feed.handed_over)
        feed.tasks.append(asyncio.create_task(self._run_feed(feed), name=f"feed-{svc.cfg.id}"))
        self._tasks.append(feed.tasks[0])
        return feed

    # -- idle channels ---------------------------------------------------------------------
    async def _drop_idle(self) -> None:
        while True:
            await asyncio.sleep(min(max(self.idle_channel_s / 4, 0.05), 60))
            self._tasks = [t for t in self._tasks if not t.done()]
            for channel in self.registry.unused_for(self.idle_channel_s):
                try:
                    if await self._idle_state(channel):
                        self._drop_if_idle(channel)
                except StoreUnavailable:
                    continue  # kept: tried again on the next round
                except Exception:  # one odd channel must not stop the sweep for good
                    log.exception("could not check whether channel %s is idle", channel)

    async def _idle_state(self, channel: str) -> bool:
        """Its state holds nothing that runs on its own: no alert queued or playing, no running timer."""
        svc = self.registry.loaded(channel)
        if svc is None or not self._nothing_happening(channel):
            return False
        state, now = await svc.current(), now_ms()
        playing = state.alerts["current"] is not None and state.alerts["current"]["ends_at"] > now
        timer_runs = state.timer is not None and not state.timer.get("paused") and (state.timer.get("ends_at") or 0) > now
        return not (state.alerts["queue"] or playing or timer_runs)

    def _nothing_happening(self, channel: str) -> bool:
        svc = self.registry.loaded(channel)
        if svc is None or svc.writer.busy or not self.registry.unused(channel, self.idle_channel_s):
            return False
        feed = self.feeds.get(channel)
        if feed is None:
            return True
        if feed.welcoming or feed.lock.locked() or not feed.inbox.empty() or not feed.ready.is_set():
            return False
        return not any(True for ns in NAMESPACES for _ in self.sio.manager.get_participants(ns, channel))

    def _drop_if_idle(self, channel: str) -> None:
        # Checked again with no await before the drop: a client or a write may have come meanwhile.
        if not self._nothing_happening(channel):
            return
        feed = self.feeds.pop(channel, None)
        if feed is not None:
            for task in feed.tasks:
                task.cancel()
        self.registry.drop(channel)
        log.debug("channel %s idle: dropped from memory", channel)

    async def _run_feed(self, feed: ChannelFeed) -> None:
        channel = feed.service.cfg.id
        while True:
            try:
                feed.delivered = (await feed.service.current()).seq
                break
            except StoreUnavailable as exc:
                log.warning("channel %s not loaded yet: %s", channel, exc)
                await asyncio.sleep(1)
        feed.ready.set()
        feed.tasks.append(asyncio.create_task(self._tick(feed), name=f"alerts-{channel}"))
        self._tasks.append(feed.tasks[-1])
        await self._pump(feed)

    def _channel_changed(self, channel: str, old: ChannelSettings | None, new: ChannelSettings | None) -> None:
        """Disabled: every client of the channel goes; a rotated key or token: its holders go."""
        if channel not in self.feeds or old is None:
            return
        self.feeds[channel].snapshots.clear()  # they carry the old settings (a campaign's goal)
        for ns, secret in (("/overlay", "overlay_key"), ("/dashboard", "moderator_tokens")):
            if new is None or getattr(old, secret) != getattr(new, secret):
                task = asyncio.create_task(self._disconnect_room(channel, ns), name=f"disconnect-{channel}")
                self._tasks.append(task)

    async def _disconnect_room(self, channel: str, ns: str) -> None:
        sids = [sid for sid, _ in self.sio.manager.get_participants(ns, channel)]
        for sid in sids:
            await self.sio.disconnect(sid, namespace=ns)

    async def stop(self) -> None:
        # No new feed from now on: a commit still landing (a team announcement) would start one,
        # and its tasks, after the ones cancelled below were listed; its alert schedule then ran
        # on and the shutdown waited for it for ever.
        self._started = False
        # Cancel until done: Python 3.11's wait_for (in _tick) can swallow a cancellation that
        # races its timeout, and the task would then run on and hang the shutdown.
        pending = [t for t in self._tasks if not t.done()]
        while pending:
            for t in pending:
                t.cancel()
            await asyncio.wait(pending, timeout=0.5)
            pending = [t for t in self._tasks if not t.done()]  # (any started meanwhile too)
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for task in list(self._readings):
            task.cancel()
        await asyncio.gather(*self._readings, return_exceptions=True)

    def on_events(self, channel: str, events: list[Event]) -> None:
        """Store subscriber: queue committed events for this channel's pump (never blocks).

        The store calls this inside the commit, before the writer answers its callers; the
        service then awaits ``ChannelFeed.handed_over`` before it answers: with 10,000 overlays
        a ``201`` waits for the fan-out (~100 ms). Answering first (2.4 ms) let the senders
        outrun the overlays with intake saturated (fan-out delay p50 0.9 → 2.5 s at 1,000
        overlays, 5 → 92 ms at 100): the overlays are what viewers see, so senders wait
        (docs/write-path.md)."""
        feed = self.feed(channel)  # another process's commit on a channel new to this one: its alerts tick here too
        if feed is None or not events:
            return
        if feed.unattended():  # no one to send them to: kept for a backlog at once, no pump round
            feed.queued = max(feed.queued, events[-1].seq)
            self._record(feed, self._fresh(feed, events))
            feed.hand(feed.queued)
            return
        feed.queued = max(feed.queued, events[-1].seq)
        feed.inbox.put_nowait(events)

    def on_reading(self, channel: str, name: str, data: dict[str, Any]) -> None:
        """Store reading handler (a team's totals): to the channel's clients here, if it has any."""
        feed = self.feeds.get(channel)
        if feed is None or not self._started:
            return
        if not feed.attendees:
            feed.snapshots.clear()  # (cached ones hold the reading's older value)
            return
        task = asyncio.create_task(self._send_reading(feed, name, data), name=f"reading-{channel}")
        self._readings.add(task)
        task.add_done_callback(self._readings.discard)

    def _readings_missed(self) -> None:
        """Readings may have been lost (the store's connection came back): every client here is
        sent the current ones (they are not in the log)."""
        if not self._started:
            return
        task = asyncio.create_task(self._resend_readings(), name="readings-resent")
        self._readings.add(task)
        task.add_done_callback(self._readings.discard)

    async def _resend_readings(self) -> None:
        for feed in [f for f in self.feeds.values() if f.attendees and f.service.reading_parts]:
            try:
                for part in feed.service.reading_parts:
                    for name, data in await part():
                        await self._send_reading(feed, name, data)
            except StoreUnavailable as exc:  # the next round sends them
                log.warning("readings of %s not sent again: %s", feed.service.cfg.id, exc)

    async def _send_reading(self, feed: ChannelFeed, name: str, data: dict[str, Any]) -> None:
        # Under the lock: a client being welcomed gets it in the room or reads it in its snapshot.
        try:
            async with feed.lock:
                feed.snapshots.clear()
                for ns in NAMESPACES:
                    await self.sio.emit(name, data, room=feed.service.cfg.id, namespace=ns)
        except Exception:  # a reading is replaced by the next one; the others go on
            log.exception("reading %s to %s not sent", name, feed.service.cfg.id)

    # -- fan-out ---------------------------------------------------------------------------
    async def _pump(self, feed: ChannelFeed) -> None:
        try:
            while True:
                batches = [await feed.inbox.get()]
                while not feed.inbox.empty():  # commits that arrived while we sent: one write for all
                    batches.append(feed.inbox.get_nowait())
                await self._send(feed, batches)
                feed.hand(max(ev.seq for events in batches for ev in events))
        finally:
            feed.hand(None)

    async def _send(self, feed: ChannelFeed, batches: list[list[Event]]) -> None:
        channel = feed.service.cfg.id
        async with feed.lock:
            fresh = self._fresh(feed, (ev for events in batches for ev in events))
            if not fresh:
                return
            try:
                await self._broadcast(feed, channel, fresh)
            except Exception:  # one bad send must not silence the channel for good
                log.exception("broadcast of events %s-%s on %s failed", fresh[0].seq, fresh[-1].seq, channel)
            self._record(feed, fresh)

    @staticmethod
    def _fresh(feed: ChannelFeed, events: Iterable[Event]) -> list[Event]:
        """The events not emitted yet, now in the feed's buffer (for a backlog)."""
        fresh = []
        for ev in events:
            if ev.seq > feed.delivered:
                fresh.append(ev)
                feed.buffer.append(ev)
                feed.delivered = ev.seq
        return fresh

    @staticmethod
    def _record(feed: ChannelFeed, events: list[Event]) -> None:
        """Counted, and the alert schedule woken if the next alert's time may have moved."""
        channel = feed.service.cfg.id
        for ev in events:
            metrics.EVENTS.labels(channel, ev.type).inc()
            if ev.type in ("alert", "queue", "alert_timing"):
                feed.alerts_changed.set()
                if ev.type == "queue":
                    metrics.QUEUE.labels(channel).set(ev.data["alerts"]["queue_length"])

    async def _broadcast(self, feed: ChannelFeed, channel: str, events: list[Event]) -> None:
        """A commit's events (or several commits'), in order, to each namespace's clients:
        every client gets them in one write (a batch of 50 donations is 100 events)."""
        for ns in NAMESPACES:
            mine = [ev for ev in events if ns == "/dashboard" or ev.audience == OVERLAY]
            floors = feed.floors[ns]
            if floors:  # a client that just joined skips what its snapshot holds: event by event
                for ev in mine:
                    await self._broadcast_one(floors, channel, ev, ns)
            elif mine:
                await emit_many(self.sio.manager, [(ev.type, Encoded(ev.data, ev.data_json)) for ev in mine],
                                ns, channel)

    async def _broadcast_one(self, floors: dict[str, int], channel: str, ev: Event, ns: str) -> None:
        skip = [sid for sid, floor in floors.items() if floor >= ev.seq]
        for sid in [sid for sid, floor in floors.items() if floor < ev.seq]:
            del floors[sid]
        await self.sio.emit(ev.type, Encoded(ev.data, ev.data_json), room=channel, namespace=ns,
                            skip_sid=skip or None)

    def _resync_later(self, feed: ChannelFeed) -> Callable[[], None]:
        def resync() -> None:
            task = asyncio.create_task(self._resync(feed), name=f"resync-{feed.service.cfg.id}")
            self._tasks.append(task)
        return resync

    async def _resync(self, feed: ChannelFeed) -> None:
        """The store lost its data and was re-seeded: what clients hold (recent donations,
        leaderboard) may no longer be true, so every client gets a fresh ``state``."""
        channel = feed.service.cfg.id
        try:
            async with feed.lock:
                feed.snapshots.clear()
                for ns in NAMESPACES:
                    snap = await self._snapshot(feed, moderator=ns == "/dashboard")
                    await self.sio.emit("state", snap, room=channel, namespace=ns)
        except StoreUnavailable as exc:
            log.warning("cannot resync %s after the store reset: %s", channel, exc)

    # -- alert schedule --------------------------------------------------------------------
    async def _tick(self, feed: ChannelFeed) -> None:
        """Start each alert when it is due. Every process that hears the channel runs this;
        the store lets one win."""
        svc = feed.service
        while self.feeds.get(svc.cfg.id) is feed:  # a dropped feed's schedule ends (cancelled, too)
            feed.alerts_changed.clear()
            try:
                # Where the channel's commits are heard: it has clients here, or its writer here
                # raced another process or queued alerts.
                await svc.until_heard()
                state = await svc.current()
                due = alerts.due_at(state.alerts, timing.gap_ms(svc.cfg, state))
                if self.registry.settings(svc.cfg.id) is None:
                    due = None  # disabled: its queue waits, as it was, for the channel to be enabled
                wait = 5.0 if due is None else max(0.0, (due - now_ms()) / 1000)
                if wait > 0:
                    try:
                        await asyncio.wait_for(feed.alerts_changed.wait(), timeout=min(wait, 5.0))
                    except TimeoutError:
                        pass
                    continue
                await svc.advance()
            except ShuttingDown:
                return  # this process is draining; another one (or the next start) plays the alerts
            except StoreUnavailable as exc:
                log.warning("alert schedule for %s paused: %s", svc.cfg.id, exc)
                await asyncio.sleep(1)
            except Exception:  # a dead ticker would stop every alert of the channel
                log.exception("alert schedule for %s failed; retrying", svc.cfg.id)
                await asyncio.sleep(1)
