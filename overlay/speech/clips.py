"""Clips already spoken, per process: a small LRU, and one synthesis per clip however many
overlays ask for it at once (each browser source of a channel fetches the same URL)."""
from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable

MAX_CLIPS = 64          # ~200 characters of speech is ~0.5 MB of WAV: 32 MB at most
MAX_PARALLEL = 2        # engines are CPU-bound: a burst of alerts must not fork one per request


class ClipCache:
    def __init__(self, size: int = MAX_CLIPS) -> None:
        self.size = size
        self._clips: OrderedDict[str, bytes] = OrderedDict()
        self._pending: dict[str, asyncio.Future[bytes]] = {}
        self._slots = asyncio.Semaphore(MAX_PARALLEL)

    def get(self, key: str) -> bytes | None:
        clip = self._clips.get(key)
        if clip is not None:
            self._clips.move_to_end(key)
        return clip

    async def make(self, key: str, speak: Callable[[], Awaitable[bytes]]) -> bytes:
        """The clip for ``key``, synthesised by ``speak`` unless it is cached or under way."""
        clip = self.get(key)
        if clip is not None:
            return clip
        pending = self._pending.get(key)
        if pending is None:
            pending = asyncio.ensure_future(self._speak(key, speak))
            self._pending[key] = pending
            pending.add_done_callback(lambda _f: self._pending.pop(key, None))
        # shield: one impatient client leaving must not cancel the clip the others wait for
        return await asyncio.shield(pending)

    async def _speak(self, key: str, speak: Callable[[], Awaitable[bytes]]) -> bytes:
        async with self._slots:
            clip = await speak()
        self._clips[key] = clip
        while len(self._clips) > self.size:
            self._clips.popitem(last=False)
        return clip

    async def close(self) -> None:
        for pending in list(self._pending.values()):
            pending.cancel()
        await asyncio.gather(*self._pending.values(), return_exceptions=True)
