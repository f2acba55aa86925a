"""Socket.IO connections of ``Realtime``: authorize, then the snapshot or backlog and the join.

A client that connects is given its snapshot or backlog and joined to the channel's room
under the channel's lock, the one its events are emitted under: the Home Assistant rule,
nothing can be emitted between the backlog and the join, so there is no gap and no duplicate.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import socketio

from overlay import metrics
from overlay.clock import now_ms
from overlay.domain import wire
from overlay.domain.state import OVERLAY, Event
from overlay.errors import StoreUnavailable
from overlay.http import throttle
from overlay.realtime.feed import ChannelFeed
from overlay.realtime.stalls import StallSweeper
from overlay.secret import secret_equal

log = logging.getLogger(__name__)
TokenCheck = Callable[[str, dict[str, Any], dict[str, Any]], bool]


class Welcome:
    """Mixin of ``Realtime``: its connect and disconnect handlers and what a client is sent on joining."""

    sio: socketio.AsyncServer
    stalls: StallSweeper
    feeds: dict[str, ChannelFeed]
    moderator_check: TokenCheck
    on_leave: list[Callable[[str, str], Awaitable[None]]]

    def feed(self, channel: object) -> ChannelFeed | None:
        """The channel's feed (``Realtime.feed``)."""
        raise NotImplementedError

    def _connect_handler(self, ns: str) -> Callable[..., Any]:
        async def on_connect(sid: str, environ: dict[str, Any], auth: Any = None) -> bool:
            auth = auth if isinstance(auth, dict) else {}
            feed = self._authorize(ns, auth, environ)
            feed.welcoming += 1  # from here the channel is not idle, until the client is in its room
            cfg = feed.service.cfg
            last_seq = auth.get("last_seq")
            if isinstance(last_seq, bool) or not isinstance(last_seq, int) or last_seq < 0:
                last_seq = None
            await self.sio.save_session(sid, {"channel": cfg.id}, namespace=ns)
            self.stalls.watch(environ)
            handshake = self.sio.manager.expect(sid, ns)  # overlay/realtime/handshake.py
            asyncio.create_task(self._welcome(feed, sid, ns, last_seq, handshake))
            metrics.CLIENTS.labels(ns).inc()
            return True
        return on_connect

    def _authorize(self, ns: str, auth: dict[str, Any], environ: dict[str, Any]) -> ChannelFeed:
        """The channel feed this auth may join, or ConnectionRefusedError (sent as connect_error)."""
        limited = throttle.socketio_refusal(environ)  # the right credential too: overlay.http.throttle
        if limited is not None:
            raise socketio.exceptions.ConnectionRefusedError(limited)
        feed = None
        try:
            feed = self.feed(auth.get("channel"))
            if feed is None:
                reason = "unknown channel"
            elif ns == "/overlay":
                reason = None if secret_equal(auth.get("key"), feed.service.cfg.overlay_key) else "invalid overlay key"
            else:
                ok = self.moderator_check(feed.service.cfg.id, auth, environ)
                reason = None if ok else "invalid moderator token"
        except Exception as exc:  # noqa: BLE001 - hostile auth (a lone surrogate, an odd cookie) is a refusal
            # Any other exception would leave the client with neither connect nor connect_error.
            log.warning("refused a %s connection: its auth could not be checked (%s)", ns, type(exc).__name__)
            reason = "invalid credentials"
        if reason is not None:
            if feed is not None:  # a wrong credential for a real channel: a guess
                throttle.socketio_failure(environ, auth)
            raise socketio.exceptions.ConnectionRefusedError(reason)
        assert feed is not None
        return feed

    def _disconnect_handler(self, ns: str) -> Callable[..., Any]:
        async def on_disconnect(sid: str, *args: Any) -> None:
            metrics.CLIENTS.labels(ns).dec()
            for feed in self.feeds.values():
                feed.floors[ns].pop(sid, None)
                if (ns, sid) in feed.attendees:
                    feed.attendees.discard((ns, sid))
                    feed.service.leave()
            for hook in self.on_leave:
                await hook(ns, sid)
        return on_disconnect

    async def _welcome(self, feed: ChannelFeed, sid: str, ns: str, last_seq: int | None,
                       handshake: asyncio.Event) -> None:
        try:
            await self._join(feed, sid, ns, last_seq, handshake)
        finally:
            feed.welcoming -= 1

    async def _join(self, feed: ChannelFeed, sid: str, ns: str, last_seq: int | None,
                    handshake: asyncio.Event) -> None:
        # The connect handler runs before the client is told it is connected; wait for that.
        await handshake.wait()
        if not self.sio.manager.is_connected(sid, ns):
            return  # refused after all, or gone already
        await feed.ready.wait()
        try:
            # Subscribed before the snapshot is read: every commit after it reaches the room.
            feed.attendees.add((ns, sid))
            await feed.service.attend()
            async with feed.lock:
                await self._rejoin(feed)
                floor = None
                backlog = await self._backlog(feed, ns, last_seq)
                if backlog is None:
                    snap = await self._snapshot(feed, moderator=ns == "/dashboard")
                    await self.sio.emit("state", snap, to=sid, namespace=ns)
                    if snap["seq"] > feed.delivered:
                        floor = snap["seq"]
                else:
                    for ev in backlog:
                        await self.sio.emit(ev.type, ev.data, to=sid, namespace=ns)
                    for part in feed.service.reading_parts:  # what it missed is not in the log
                        for name, data in await part():
                            await self.sio.emit(name, data, to=sid, namespace=ns)
                # A client may leave while it waits for the lock or its snapshot (a page
                # reloaded at once): then there is no one to join. No await between this
                # check and the join, so it cannot leave in between.
                if not self.sio.manager.is_connected(sid, ns):
                    return
                if floor is not None:
                    feed.floors[ns][sid] = floor
                await self.sio.enter_room(sid, feed.service.cfg.id, namespace=ns)
        except StoreUnavailable as exc:
            log.warning("cannot welcome %s: %s", sid, exc)
            await self.sio.disconnect(sid, namespace=ns)

    async def _rejoin(self, feed: ChannelFeed) -> None:
        """Under the lock: if the channel's commits stopped reaching this process since the
        feed was last whole (no clients here, a lost Redis connection), start again from the
        stored state: what was emitted before is no backlog for anyone."""
        heard = feed.service.hearing()
        if heard == feed.heard:
            return
        feed.buffer.clear()
        feed.snapshots.clear()
        feed.delivered = max(feed.delivered, (await feed.service.current()).seq)
        feed.heard = heard

    async def _snapshot(self, feed: ChannelFeed, *, moderator: bool) -> dict[str, Any]:
        """The channel's snapshot, computed once per change rather than once per connection:
        10,000 overlays reconnecting after a restart all want the same one. A cached snapshot
        is still good while it is at least as new as everything this process emitted."""
        snap = feed.snapshots.get(moderator)
        if snap is None or snap["seq"] < feed.delivered:
            snap = feed.snapshots[moderator] = await feed.service.snapshot(moderator=moderator)
        return {**snap, "server_time": wire.iso(now_ms())}

    async def _backlog(self, feed: ChannelFeed, ns: str, last_seq: int | None) -> list[Event] | None:
        """Events after ``last_seq`` up to what this process emitted, or None: send a snapshot."""
        if last_seq is None or last_seq > feed.delivered:
            return None
        if feed.buffer and feed.buffer[0].seq <= last_seq + 1:
            events = [e for e in feed.buffer if e.seq > last_seq]
        elif last_seq == feed.delivered:
            events = []
        else:
            logged = await feed.service.events_after(last_seq)
            if logged is None:
                return None
            events = [e for e in logged if e.seq <= feed.delivered]
        return [e for e in events if ns == "/dashboard" or e.audience == OVERLAY]
