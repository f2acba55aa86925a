"""Clips already spoken, per process: an LRU bounded in bytes (``server.tts_cache_mb``), and
one synthesis per clip however many overlays ask for it at once (each browser source of a
channel fetches the same URL). An evicted clip is made again when asked for: its URL stays good."""
from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable

MAX_PARALLEL = 2        # engines are CPU-bound: a burst of alerts must not fork one per request


class ClipCache:
    def __init__(self, max_bytes: int) -> None:
        # Bytes, not clips: a clip's size follows its length (about 44 kB a second), from a
        # few kB to several MB for a long message read slowly.
        self.max_bytes = max_bytes
        self.bytes = 0
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
        if len(clip) <= self.max_bytes:  # a larger one is served, not kept
            self._keep(key, clip)
        return clip

    def _keep(self, key: str, clip: bytes) -> None:
        old = self._clips.pop(key, None)
        self.bytes += len(clip) - (0 if old is None else len(old))
        self._clips[key] = clip
        while self.bytes > self.max_bytes:
            _, evicted = self._clips.popitem(last=False)
            self.bytes -= len(evicted)

    async def close(self) -> None:
        for pending in list(self._pending.values()):
            pending.cancel()
        await asyncio.gather(*self._pending.values(), return_exceptions=True)
