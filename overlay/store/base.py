"""One storage contract, two backends (embedded SQLite, Redis).

The shape follows python-socketio's pub/sub managers: all the logic lives above the
store (``overlay.domain.donations`` computes a ``Change``, ``overlay.store.writer`` batches them);
a backend only loads a channel's state, commits a batch of changes in one
transaction if nobody committed since it was loaded, answers a few queries, and
hands every committed event it learns of to ``_deliver``.

What is the same for every backend lives here, once: the retention of the replay log
(KEEP_*) and, in ``overlay.store.hearing``, the notification of subscribers and gap repair
(a subscriber gets every event exactly once, in seq order, the gaps read back from the
log). Subscribers are whatever sits above the store (realtime): the store calls them and
imports nothing of theirs.
"""
from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import Any

from overlay.config import ChannelSettings
from overlay.domain.state import Change, ChannelState
from overlay.errors import StoreUnavailable as StoreUnavailable  # the store raises it; defined where handlers catch it
from overlay.store.hearing import Hearing

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


class Store(Hearing, abc.ABC):
    backend: str

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

    # events_after(channel, seq): the replay log (declared in Hearing, which reads gaps with it).

    async def ping(self) -> bool:
        return True

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
