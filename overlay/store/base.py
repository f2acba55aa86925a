"""One storage contract, two backends (embedded SQLite, Redis).

The shape follows python-socketio's pub/sub managers: all the logic lives above the
store (``overlay.domain.donations`` computes a ``Change``, ``overlay.store.writer`` batches them);
a backend only loads a channel's state, commits a batch of changes in one
transaction if nobody committed since it was loaded, answers a few queries, and
hands every committed event it learns of to ``_deliver``.

What is the same for every backend lives here, once: the retention of the replay log
(KEEP_*), the notification of subscribers, and gap repair (a subscriber gets every
event exactly once, in seq order, the gaps read back from the log). Subscribers are
whatever sits above the store (realtime): the store calls them and imports nothing of theirs.
"""
from __future__ import annotations

import abc
import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from overlay.config import ChannelSettings
from overlay.domain.state import Applied, Change, ChannelState, Event
from overlay.errors import StoreUnavailable as StoreUnavailable  # the store raises it; defined where handlers catch it

log = logging.getLogger(__name__)
EventHandler = Callable[[str, list[Event]], Awaitable[None] | None]
FollowHandler = Callable[[Applied], None]
ReadingHandler = Callable[[str, str, dict[str, Any]], None]
ChannelWatcher = Callable[[str | None], Awaitable[None]]

# The replay log keeps the last KEEP_EVENTS events, and anything younger than
# KEEP_MS up to HARD_LIMIT events, whichever is more.
KEEP_EVENTS = 1000
KEEP_MS = 3_600_000
HARD_LIMIT = 10_000
# No store call may take longer: with a stalled store every waiting request gets its
# 503 within about this, instead of queueing behind the others' timeouts.
STORE_DEADLINE_S = 1.5
STARTUP_WAIT_S = 60  # how long start-up waits for a store that does not answer yet


class StoreReset(Exception):
    """The store lost what it held (a Redis restarted empty or flushed): its seq went
    backwards or its epoch changed. The writer logs it and calls ``reseed``."""


class KeysTaken(Exception):
    """A commit assumed idempotency keys absent (``commit_batch(absent=...)``) and one is
    stored: nothing was written; the writer looks the keys up and computes the batch again."""


Absent = Sequence[tuple[str, str]]  # (source, external_id) keys a batch was computed as absent


class Store(abc.ABC):
    backend: str

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

    # Channels stored through the admin API (overlay.store.channels; records: overlay.channel_records).
    @abc.abstractmethod
    async def put_channel(self, channel_id: str, record: dict[str, Any], *, create: bool) -> bool:
        """Store the record (with ``create``: only if no channel has this id; False if one has)
        and announce it to every process's watchers."""

    @abc.abstractmethod
    async def get_channel(self, channel_id: str) -> dict[str, Any] | None: ...

    @abc.abstractmethod
    async def delete_channel(self, channel_id: str) -> bool:
        """Forget the record (False if there was none) and announce it to every process's watchers."""

    @abc.abstractmethod
    async def list_channels(self, q: str, limit: int,
                            cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        """Records sorted by id, after ``cursor``, whose id or name contains ``q``
        (case-insensitive), at most ``limit``; and the cursor of the next page (None: no more)."""

    # Teams stored through the admin API (overlay.store.teams), announced as ``team:<id>``.
    @abc.abstractmethod
    async def put_team(self, team_id: str, record: dict[str, Any], *, create: bool) -> bool: ...

    @abc.abstractmethod
    async def get_team(self, team_id: str) -> dict[str, Any] | None: ...

    @abc.abstractmethod
    async def delete_team(self, team_id: str) -> bool: ...

    @abc.abstractmethod
    async def list_teams(self) -> list[dict[str, Any]]:
        """Every stored team's record, by id."""

    # Team totals kept as an aggregate, moved by each member's commit (overlay.store.team_totals).
    @abc.abstractmethod
    async def rebuild_team_totals(self, team_id: str, members: list[str], config_members: set[str]) -> None:
        """Atomically with respect to commits: make ``members`` (those of ``config_members``, and the
        others if stored and not disabled) the team's counting members and sum their committed totals."""

    @abc.abstractmethod
    async def team_totals(self, team_id: str) -> dict[str, int] | None:
        """{raised, matched, count}; None if never built."""
    # A team match's shared cap (overlay.store.team_match): grants per donation, atomic.
    @abc.abstractmethod
    async def claim_team_match(self, team_id: str, donation_id: str, want: int, cap: int) -> tuple[int, int]:
        """Grant ``min(want, cap - used)`` to the donation (once): -> (grant, used after it)."""

    @abc.abstractmethod
    async def release_team_match(self, team_id: str, donation_id: str) -> tuple[int, int]:
        """Give the donation's grant back (once): -> (given back, used after it)."""

    @abc.abstractmethod
    async def team_match_used(self, team_id: str) -> int: ...

    @abc.abstractmethod
    async def clear_team_match(self, team_id: str) -> None: ...

    @abc.abstractmethod
    async def put_invite(self, invite_id: str, record: dict[str, Any]) -> None:
        """``record`` holds ``uses`` (how many channels it may create) and ``expires_ms``."""

    @abc.abstractmethod
    async def get_invite(self, invite_id: str) -> dict[str, Any] | None:
        """The record, with ``used``: how many times it was used so far."""

    @abc.abstractmethod
    async def use_invite(self, invite_id: str, now_ms: int) -> bool:
        """Count one use, atomically across processes; False if none is left or it expired."""

    async def open(self, channels: list[ChannelSettings]) -> None:  # noqa: B027 - optional hook
        """Connect, create what is missing, start listening."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Stop listening and release connections."""

    @abc.abstractmethod
    async def load(self, cfg: ChannelSettings) -> ChannelState:
        """The channel's current state (its initial state from config if never stored)."""

    @abc.abstractmethod
    async def channel_totals(self, channels: list[str]) -> dict[str, dict[str, int]]:
        """Each channel's committed totals (``raised``, ``matched``, ``count``), many channels in
        one read; a channel that never committed is left out."""

    @abc.abstractmethod
    async def commit_batch(self, channel: str, changes: list[Change], absent: Absent = ()) -> tuple[bool, int]:
        """Write ``changes`` (each based on the one before) in one transaction iff the stored
        seq is still ``changes[0].base_seq`` and none of the ``absent`` idempotency keys is
        stored: (True, new seq) once durable; (False, stored seq) if someone else committed
        first. Raises ``KeysTaken`` (nothing written) if an ``absent`` key is stored, and
        ``StoreReset`` if the store lost its data."""

    async def commit(self, channel: str, change: Change) -> bool:
        return (await self.commit_batch(channel, [change]))[0]

    async def take_turn(self, channel: str, ttl_ms: int) -> bool:
        """Hold the channel's write turn (until the next commit_batch or give_turn, or ttl_ms):
        True if we got it. Only a backend shared by processes has turns to take."""
        return True

    async def give_turn(self, channel: str) -> None:  # noqa: B027 - optional hook
        """Give back a turn taken without committing."""

    @abc.abstractmethod
    async def reseed(self, cfg: ChannelSettings, state: ChannelState) -> None:
        """After ``StoreReset``: store ``state`` (the last one this process committed) unless
        another process already did, and never let the stored seq go below ``state.seq``."""

    @abc.abstractmethod
    async def get_donation(self, channel: str, donation_id: str) -> dict[str, Any] | None: ...

    @abc.abstractmethod
    async def find_external(self, channel: str, source: str, external_id: str) -> dict[str, Any] | None: ...

    async def find_externals(self, channel: str,
                             keys: list[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any] | None]:
        """``find_external`` for many (source, external_id) keys; backends do it in one call."""
        return {key: await self.find_external(channel, *key) for key in keys}

    @abc.abstractmethod
    async def list_donations(self, channel: str, *, after_seq: int | None = None,
                             limit: int = 50) -> list[dict[str, Any]]:
        """Newest first; with ``after_seq``, oldest first from just after it."""

    @abc.abstractmethod
    async def recent(self, channel: str, limit: int) -> list[dict[str, Any]]:
        """Approved, non-test donations, newest first."""

    @abc.abstractmethod
    async def leaderboard(self, channel: str, limit: int) -> list[tuple[str, int]]:
        """(donor name, total minor units), highest first; anonymous donors never appear."""

    @abc.abstractmethod
    async def events_after(self, channel: str, seq: int) -> list[Event] | None:
        """Logged events with seq > ``seq`` in order, or None if the log no longer
        reaches back that far."""

    async def ping(self) -> bool:
        return True

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
    async def revoke_session(self, channel: str, session_id: str, expires_ms: int) -> None:
        """Remember, until ``expires_ms`` (epoch ms, when the cookie dies anyway), that this
        dashboard session was logged out: every process must refuse it from now on."""

    @abc.abstractmethod
    async def session_revoked(self, channel: str, session_id: str) -> bool: ...

    # Widget presets (API.md §7): small JSON documents, read when an overlay page loads; written
    # by commit_batch (``Change.presets``), in the commit of their ``settings`` event.
    @abc.abstractmethod
    async def get_preset(self, channel: str, widget: str, name: str) -> dict[str, Any] | None: ...

    @abc.abstractmethod
    async def list_presets(self, channel: str, widget: str) -> dict[str, dict[str, Any]]:
        """name -> settings, sorted by name."""

    # Webhook providers' delivery ids and subscription status (overlay.store.deliveries).
    @abc.abstractmethod
    async def delivery_seen(self, channel: str, provider: str, delivery_id: str) -> bool: ...

    @abc.abstractmethod
    async def remember_delivery(self, channel: str, provider: str, delivery_id: str, expires_ms: int) -> None:
        """Until ``expires_ms`` (epoch ms), ``delivery_seen`` answers True for this id."""

    @abc.abstractmethod
    async def put_integration_status(self, channel: str, provider: str, name: str,
                                     status: dict[str, Any]) -> None: ...

    @abc.abstractmethod
    async def integration_status(self, channel: str) -> dict[str, dict[str, dict[str, Any]]]:
        """{provider: {name: status}}, sorted."""

    # Webhook delivery counts per minute and last delivery (overlay.store.health).
    @abc.abstractmethod
    async def record_delivery(self, channel: str, provider: str, outcome: str, now_ms: int,
                              count: int = 1, last: bool = True) -> None:
        """``last``: also the provider's last delivery (False: a source's failed poll)."""

    @abc.abstractmethod
    async def delivery_health(self, channel: str, now_ms: int) -> dict[str, dict[str, Any]]:
        """{provider: {last_ms, accepted, refused, failed}} over the last hour."""

    # Named leases: one holder across processes and hosts (overlay.store.leases has the contract).
    @abc.abstractmethod
    async def acquire_lease(self, name: str, owner: str, ttl_ms: int) -> bool: ...

    @abc.abstractmethod
    async def renew_lease(self, name: str, owner: str, ttl_ms: int) -> bool: ...

    @abc.abstractmethod
    async def release_lease(self, name: str, owner: str) -> None: ...

    # Open overlay pages, expiring unless renewed (overlay.store.pages has the contract).
    @abc.abstractmethod
    async def put_overlay_page(self, channel: str, page_id: str, page: dict[str, Any], expires_ms: int,
                               now_ms: int, limit: int) -> bool: ...

    @abc.abstractmethod
    async def drop_overlay_page(self, channel: str, page_id: str) -> None: ...

    @abc.abstractmethod
    async def overlay_pages(self, channel: str, now_ms: int) -> list[dict[str, Any]]: ...


def leaderboard_key(name: str) -> str:
    """Donors are grouped by name, whatever the case."""
    return name.casefold()
