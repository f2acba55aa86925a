"""Every webhook delivery counted by outcome, in the store (shared) and in Prometheus (this process).

``accepted``: a 2xx that took the delivery (a donation, a duplicate, an ignored event, a refund,
a Twitch challenge). ``refused``: a 4xx (signature, timestamp, body, currency...) or a 200 that
refuses the donation (``{"refused": ...}``, for the platforms that retry forever). ``failed``: our
5xx (storage down). A delivery sent by the dashboard's "Send test event" (``TEST_HEADER``) is
not counted: health describes what the platforms send.

When the store itself is down, the delivery (a ``failed`` one) cannot be written there: the
process keeps it (a few counters per minute) and writes it with the next delivery it records.
"""
from __future__ import annotations

import logging
import time
from collections import Counter
from typing import Any

from overlay import metrics
from overlay.errors import StoreUnavailable

log = logging.getLogger(__name__)
TEST_HEADER = "X-Overlay-Test-Delivery"
MAX_PENDING = 256  # (channel, provider, outcome, minute) counters kept while the store is down


def outcome(status: int, refused: bool) -> str:
    if status >= 500:
        return "failed"
    return "refused" if status >= 400 or refused else "accepted"


class DeliveryHealth:
    """One per process (``keys.DELIVERY_HEALTH``)."""

    def __init__(self) -> None:
        self._pending: Counter[tuple[str, str, str, int]] = Counter()

    async def record(self, svc: Any, provider: str, result: str) -> None:
        """Count a delivery to ``svc``'s channel, with what this process kept of its earlier ones."""
        channel = svc.cfg.id
        now_ms = int(time.time() * 1000)
        metrics.INTEGRATION_DELIVERIES.labels(channel, provider, result).inc()
        metrics.INTEGRATION_LAST_DELIVERY.labels(channel, provider).set(now_ms / 1000)
        self._pending[(channel, provider, result, now_ms)] += 1
        try:
            for key in [k for k in self._pending if k[0] == channel]:
                await svc.record_delivery(*key[1:], count=self._pending[key])
                del self._pending[key]
        except StoreUnavailable:
            log.warning("webhook %s/%s: storage unavailable, the delivery is counted later", channel, provider)
            while len(self._pending) > MAX_PENDING:
                del self._pending[next(iter(self._pending))]
