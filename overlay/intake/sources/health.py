"""A source's state and counts, in the store so that every process shows the holder's.

Only the process holding a source's lease runs it; the others answer GET …/integrations
and serve the dashboard. So the holder writes its state (``polling``, ``connected``,
``unreachable``, ``throttled``, ``error``, ``disconnected``) as the integration status
``source`` of the provider, with the holder's name, when it changes and again every
``REFRESH_MS`` while it holds the lease (``seen_at``); a state not refreshed for
``STALE_MS`` means no process runs the source now (the holder died, the lease is about to
be taken over): it reads as ``waiting``.

Counts go to the delivery health (overlay/store/health.py) like a webhook's: ``accepted``
a donation booked, ``refused`` one we cannot book (unknown currency, a malformed entry),
``failed`` a poll or connection that failed (unreachable, 5xx, 429); a failed one does not
move the last delivery, which is the last donation received.
"""
from __future__ import annotations

import logging
import os
import socket
import time
from typing import Any

from overlay import metrics
from overlay.intake.sources.book import StateLog
from overlay.errors import StoreUnavailable

log = logging.getLogger(__name__)
STATUS_NAME = "source"
REFRESH_MS = 10_000
STALE_MS = 30_000
STATES = ("starting", "polling", "connected", "throttled", "unreachable", "disconnected", "error")


def holder_name() -> str:
    return f"{socket.gethostname()} pid {os.getpid()}"


def _now_ms() -> int:
    return int(time.time() * 1000)


class SourceHealth:
    """One per source and process; ``state`` and ``count`` are called by the source,
    ``beat`` by the runner after each renewal of the lease."""

    def __init__(self, svc: Any, provider: str) -> None:
        self.svc, self.provider = svc, provider
        self.log = StateLog(f"{provider}:{svc.cfg.id}")
        self.current: dict[str, Any] | None = None
        self.written_ms = 0

    async def state(self, state: str, detail: str = "", level: int = logging.WARNING) -> None:
        """Log a change of ``detail`` (or ``state``) once, and store the state."""
        self.log.say(detail or state, level)
        now = _now_ms()
        changed = self.current is None or (self.current["state"], self.current["detail"]) != (state, detail)
        if changed:
            self.current = {"state": state, "detail": detail, "since": now, "holder": holder_name()}
            for known in STATES:
                metrics.SOURCE_STATE.labels(self.svc.cfg.id, self.provider, known).set(known == state)
            await self._write(now)

    async def beat(self) -> None:
        now = _now_ms()
        if self.current is not None and now - self.written_ms >= REFRESH_MS:
            await self._write(now)

    def stopped(self) -> None:
        """The lease is gone from this process: its gauges no longer describe the source."""
        for known in STATES:
            metrics.SOURCE_STATE.labels(self.svc.cfg.id, self.provider, known).set(0)
        self.current = None

    async def count(self, outcome: str, n: int = 1) -> None:
        if n <= 0:
            return
        now = _now_ms()
        metrics.INTEGRATION_DELIVERIES.labels(self.svc.cfg.id, self.provider, outcome).inc(n)
        if outcome != "failed":
            metrics.INTEGRATION_LAST_DELIVERY.labels(self.svc.cfg.id, self.provider).set(now / 1000)
        try:
            await self.svc.record_delivery(self.provider, outcome, now, count=n,
                                          last=outcome != "failed")
        except StoreUnavailable:
            log.warning("source %s:%s: storage unavailable, not counted", self.provider, self.svc.cfg.id)

    async def _write(self, now: int) -> None:
        assert self.current is not None
        try:
            await self.svc.put_integration_status(self.provider, STATUS_NAME,
                                                  {**self.current, "seen_at": now})
            self.written_ms = now
        except StoreUnavailable:
            pass  # the runner stops the source when the store stays down; the state goes stale


def read_state(known: dict[str, Any] | None, now_ms: int) -> dict[str, Any] | None:
    """The stored state as the API shows it; ``waiting`` once nobody refreshed it."""
    if not known:
        return None
    stale = now_ms - int(known.get("seen_at", 0)) > STALE_MS
    return {"state": "waiting" if stale else known.get("state", "waiting"),
            "detail": "" if stale else known.get("detail", ""),
            "since": known.get("seen_at") if stale else known.get("since"),
            "holder": None if stale else known.get("holder")}
