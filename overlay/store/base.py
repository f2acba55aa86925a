"""One storage contract, two backends (embedded SQLite, Redis).

The shape follows python-socketio's pub/sub managers: all the logic lives above the
store (``overlay.donations`` computes a ``Change``); a backend only loads a
channel's state, commits a change if nobody committed since it was loaded, answers
a few queries, and tells subscribers about every committed event in ``seq`` order.
"""
from __future__ import annotations

import abc
from collections.abc import Awaitable, Callable
from typing import Any

from overlay.config import ChannelSettings
from overlay.state import Change, ChannelState, Event

EventHandler = Callable[[str, list[Event]], Awaitable[None] | None]

# The replay log keeps the last KEEP_EVENTS events, and anything younger than
# KEEP_MS up to HARD_LIMIT events, whichever is more.
KEEP_EVENTS = 1000
KEEP_MS = 3_600_000
HARD_LIMIT = 10_000


class StoreUnavailable(Exception):
    """The backend cannot be reached; callers answer 503 so that senders retry."""


class Store(abc.ABC):
    backend: str

    def __init__(self) -> None:
        self._handlers: list[EventHandler] = []

    def subscribe(self, handler: EventHandler) -> None:
        """``handler(channel, events)`` is called for every commit, in seq order,
        whichever process made it."""
        self._handlers.append(handler)

    async def open(self, channels: list[ChannelSettings]) -> None:  # noqa: B027 - optional hook
        """Connect, create what is missing, start listening."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Stop listening and release connections."""

    @abc.abstractmethod
    async def load(self, cfg: ChannelSettings) -> ChannelState:
        """The channel's current state (its initial state from config if never stored)."""

    @abc.abstractmethod
    async def commit(self, channel: str, change: Change) -> bool:
        """Write ``change`` atomically iff the stored seq is still ``change.base_seq``.

        True once it is durable; False if someone else committed first (reload, retry).
        """

    @abc.abstractmethod
    async def get_donation(self, channel: str, donation_id: str) -> dict[str, Any] | None: ...

    @abc.abstractmethod
    async def find_external(self, channel: str, source: str, external_id: str) -> dict[str, Any] | None: ...

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


def leaderboard_key(name: str) -> str:
    """Donors are grouped by name, whatever the case."""
    return name.casefold()
