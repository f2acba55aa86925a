"""What this process has emitted for one channel, in order (``overlay.realtime.namespaces``)."""
from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

from overlay.domain.state import Event
from overlay.service.channel import KEEP_EVENTS, ChannelService

NAMESPACES = ("/overlay", "/dashboard")


class ChannelFeed:
    """What this process has emitted for one channel, in order."""

    def __init__(self, service: ChannelService):
        self.service = service
        self.lock = asyncio.Lock()
        self.inbox: asyncio.Queue[list[Event]] = asyncio.Queue()
        self.buffer: deque[Event] = deque(maxlen=KEEP_EVENTS)
        self.delivered = 0
        # sid -> seq of the snapshot it was sent: room events up to it are already in it.
        self.floors: dict[str, dict[str, int]] = {ns: {} for ns in NAMESPACES}
        self.alerts_changed = asyncio.Event()
        self.snapshots: dict[bool, dict[str, Any]] = {}  # moderator? -> latest snapshot
        self.ready = asyncio.Event()  # set once ``delivered`` is the loaded state's seq
        self.queued = 0  # the last seq put in the inbox
        self.handed = 0  # the last seq the pump has handed to the room's clients
        self._handing: list[tuple[int, asyncio.Future[None]]] = []
        self.stopped = False  # the pump ended (shutting down): nothing waits for it any more
        # (namespace, sid) of the clients for which this process attends the channel's commits
        self.attendees: set[tuple[str, str]] = set()
        self.heard: int | None = None  # store.hearing() when ``delivered`` and ``buffer`` were last whole
        self.tasks: list[asyncio.Task[None]] = []  # its pump and alert schedule
        self.welcoming = 0  # clients accepted, not yet in the room

    def unattended(self) -> bool:
        """No client here and none on its way, and the pump has handed over all it was given:
        a commit can be recorded at once, with nothing to send and nothing to overtake."""
        return (not self.attendees and not self.welcoming and self.ready.is_set() and not self.stopped
                and self.handed >= self.queued and self.inbox.empty() and not self.lock.locked())

    async def handed_over(self, seq: int) -> None:
        """Return once the pump has handed the events up to ``seq`` to every client in the
        room (written to its connection, or queued on it in order); at once if they never
        came to this feed (another process's pub/sub brings them later, or none were sent)."""
        if seq <= self.handed or seq > self.queued or self.stopped:
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._handing.append((seq, done))
        await done

    def hand(self, seq: int | None) -> None:
        """The pump is done with everything up to ``seq`` (None: it stops; let everyone go)."""
        self.stopped = seq is None
        self.handed = max(self.handed, seq if seq is not None else self.queued)
        waiting, self._handing = self._handing, []
        for upto, done in waiting:
            if upto > self.handed:
                self._handing.append((upto, done))
            elif not done.done():
                done.set_result(None)
