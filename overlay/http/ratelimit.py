"""The one rate limiter: at most ``limit`` hits per key in a sliding window.

Used for donate-page pledges (every hit counts) and for failed credentials (only
failures are recorded, and a client over the limit is refused until the oldest
failure leaves the window). Per process: with N workers behind SO_REUSEPORT a
client may get up to N times the limit.
"""
from __future__ import annotations

import time
from collections import deque

MAX_TRACKED = 10_000


class RateLimiter:
    def __init__(self, window_s: float = 60.0) -> None:
        self.window_s = window_s
        self._hits: dict[tuple[str, str], deque[float]] = {}

    def wait(self, key: tuple[str, str], limit: int, now: float | None = None) -> int | None:
        """Seconds until ``key`` may try again if it is at the limit, else None. Records nothing."""
        now = time.monotonic() if now is None else now
        hits = self._hits.get(key)
        while hits and hits[0] <= now - self.window_s:
            hits.popleft()
        if hits is None or len(hits) < limit:
            return None
        return max(1, int(hits[0] + self.window_s - now + 0.999))

    def record(self, key: tuple[str, str], now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        self._hits.setdefault(key, deque()).append(now)
        if len(self._hits) > MAX_TRACKED:
            self._forget(now)

    def hit(self, key: tuple[str, str], limit: int, now: float | None = None) -> int | None:
        """Record a hit; or, over the limit, the seconds to wait (nothing recorded)."""
        now = time.monotonic() if now is None else now
        wait = self.wait(key, limit, now)
        if wait is None:
            self.record(key, now)
        return wait

    def _forget(self, now: float) -> None:
        self._hits = {k: v for k, v in self._hits.items() if v and v[-1] > now - self.window_s}
        while len(self._hits) > MAX_TRACKED:  # a flood of fresh addresses: drop the oldest
            del self._hits[next(iter(self._hits))]
