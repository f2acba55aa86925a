"""What every store does with the commits it learns of: which channels' commits this
process hears, handing them to subscribers once each and in seq order (gaps read back from
the log), readings, followers of other processes' commits and watchers of stored channels.
``overlay.store.base.Store`` is one; a backend adds how commits reach it.
"""
from __future__ import annotations

import abc
import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from overlay.domain.state import Applied, Event
from overlay.errors import StoreUnavailable

log = logging.getLogger(__name__)
EventHandler = Callable[[str, list[Event]], Awaitable[None] | None]
FollowHandler = Callable[[Applied], None]
ReadingHandler = Callable[[str, str, dict[str, Any]], None]
ChannelWatcher = Callable[[str | None], Awaitable[None]]


class Hearing(abc.ABC):
    def __init__(self) -> None:
        self._handlers: list[EventHandler] = []
        self._followers: dict[str, FollowHandler] = {}
        self._delivered: dict[str, int] = {}  # channel -> the last seq handed to subscribers
        self._channel_watchers: list[ChannelWatcher] = []
        self._attending: dict[str, int] = {}  # channel -> holders (clients' feeds, writers that need it)
        self._heard: dict[str, asyncio.Event] = {}  # channel -> set while its commits reach us
        self._reading_handlers: list[ReadingHandler] = []
        self._readings_lost_watchers: list[Callable[[], None]] = []

    # Which channels' commits this process hears. A backend shared by processes sends each
    # process only the commits of the channels it attends (overlay/store/redis.py); the
    # embedded one hears every channel, always.
    async def attend(self, channel: str) -> None:
        """Hear ``channel``'s commits until the matching ``leave``: once this returns, every
        commit made from now on is delivered, so a state read afterwards misses nothing.
        Counted at once (before any wait): call ``leave`` even if this raises."""
        self._attending[channel] = self._attending.get(channel, 0) + 1
        if self._attending[channel] == 1:
            await self._start_hearing(channel)
        await self._until_heard(channel)

    def leave(self, channel: str) -> None:
        count = self._attending.get(channel, 0) - 1
        if count > 0:
            self._attending[channel] = count
            return
        self._attending.pop(channel, None)
        heard = self._heard.pop(channel, None)
        if heard is not None:
            heard.clear()
        self._stop_hearing(channel)

    def hearing(self, channel: str) -> int | None:
        """None while ``channel``'s commits may not reach this process; else a number that
        changes each time hearing starts again (what was held before may have missed commits)."""
        return 0

    async def until_heard(self, channel: str) -> None:
        """Return once ``channel``'s commits reach this process (at once on the embedded backend)."""
        if self.hearing(channel) is None:
            await self._heard.setdefault(channel, asyncio.Event()).wait()

    async def _start_hearing(self, channel: str) -> None:  # noqa: B027 - a shared backend's
        """Start receiving ``channel``'s commits (the first holder arrived)."""

    async def _until_heard(self, channel: str) -> None:  # noqa: B027 - a shared backend's
        """Wait until the subscription started by ``_start_hearing`` is in place."""

    def _stop_hearing(self, channel: str) -> None:  # noqa: B027 - a shared backend's
        """Stop receiving ``channel``'s commits (the last holder left)."""

    def _now_heard(self, channel: str) -> None:
        self._heard.setdefault(channel, asyncio.Event()).set()

    def subscribe(self, handler: EventHandler) -> None:
        """``handler(channel, events)`` is called for every commit, in seq order,
        whichever process made it."""
        self._handlers.append(handler)

    def on_reading(self, handler: ReadingHandler) -> None:
        """``handler(channel, name, data)`` for each reading sent (``send_readings``) to a channel
        whose commits this process hears (embedded: every channel)."""
        self._reading_handlers.append(handler)

    async def send_readings(self, name: str, sends: Sequence[tuple[Sequence[str], dict[str, Any]]]) -> None:
        """Event ``name`` with each ``data`` to the channels listed with it, on every process that
        hears them: a reading for the clients watching them now (a team's totals), neither logged
        nor given a seq, so a whole team of channels costs one message each, not one commit each.
        A client that connects later reads it in its snapshot."""
        for channels, data in sends:
            for channel in channels:
                self._reading(channel, name, data)

    def _reading(self, channel: str, name: str, data: dict[str, Any]) -> None:
        for handler in self._reading_handlers:
            handler(channel, name, data)

    def on_readings_lost(self, watcher: Callable[[], None]) -> None:
        """``watcher()`` when readings sent to this process may have been lost (its connection to a
        shared backend came back): they are in no log, so whoever holds the current ones sends them."""
        self._readings_lost_watchers.append(watcher)

    def _readings_lost(self) -> None:
        for watcher in self._readings_lost_watchers:
            watcher()

    def follow(self, channel: str, handler: FollowHandler) -> None:
        """``handler(applied)`` is called, before the events are delivered, for each commit
        another process made on ``channel`` (a backend shared by processes only)."""
        self._followers[channel] = handler

    def unfollow(self, channel: str, handler: FollowHandler) -> None:
        """No more calls to ``handler`` (if it is still the channel's follower)."""
        if self._followers.get(channel) == handler:
            del self._followers[channel]

    def watch_channels(self, watcher: ChannelWatcher) -> None:
        """``watcher(channel_id)`` after a stored channel was written by any process;
        ``watcher(None)``: notifications may have been missed, read them all again."""
        self._channel_watchers.append(watcher)

    async def _channels_changed(self, channel_id: str | None) -> None:
        for watcher in self._channel_watchers:
            try:
                await watcher(channel_id)
            except StoreUnavailable as exc:
                log.warning("stored channel %s not reloaded: %s", channel_id or "list", exc)

    def _delivered_up_to(self, channel: str, seq: int) -> None:
        """Subscribers have seen (or need not see) everything up to ``seq``: the state they load."""
        self._delivered[channel] = max(seq, self._delivered.get(channel, 0))

    async def _deliver(self, channel: str, events: list[Event]) -> None:
        """Hand committed events to subscribers: each once, in seq order, gaps read from the log."""
        last = self._delivered.get(channel, 0)
        fresh = [e for e in events if e.seq > last]
        if not fresh:
            return
        if fresh[0].seq != last + 1:
            # A message was missed (e.g. during a reconnect): read the gap from the log.
            fresh = await self.events_after(channel, last) or fresh
            # A commit of our own may have been delivered during that read.
            fresh = [e for e in fresh if e.seq > self._delivered.get(channel, 0)]
            if not fresh:
                return
        self._delivered[channel] = fresh[-1].seq
        await self._notify(channel, fresh)

    async def _catch_up(self) -> None:
        """After a lost connection to a shared backend: deliver what was committed meanwhile
        on the channels this process attends."""
        for channel in list(self._attending):
            last = self._delivered.get(channel)
            if last is None:
                continue
            events = await self.events_after(channel, last)
            if events:
                await self._deliver(channel, events)

    async def _notify(self, channel: str, events: list[Event]) -> None:
        for handler in self._handlers:
            result = handler(channel, events)
            if result is not None:
                await result

    @abc.abstractmethod
    async def events_after(self, channel: str, seq: int) -> list[Event] | None:
        """Logged events with seq > ``seq`` in order, or None if the log no longer
        reaches back that far."""
