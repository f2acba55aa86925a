"""Deliveries a platform may send again under the same id (Twitch's message id, PayPal's
transmission id): an id already answered 2xx is answered as a duplicate, nothing done again.

An id is remembered only once its answer is a 2xx: a delivery answered 503 (store down) is
sent again under the same id and must then be processed.
"""
from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from overlay import metrics

from .base import Ignored


async def once(svc: Any, provider: str, delivery_id: str, remember_ms: int,
               handle: Callable[[], Awaitable[web.Response]]) -> web.Response:
    channel = svc.cfg.id
    if await svc.delivery_seen(provider, delivery_id):
        metrics.WEBHOOKS.labels(channel, provider, "duplicate").inc()
        return web.json_response({"ok": True, "duplicate": True})
    answer = await handle()
    if answer.status < 300:
        await svc.remember_delivery(provider, delivery_id, int(time.time() * 1000) + remember_ms)
    return answer


def ignored(channel: str, provider: str, outcome: Ignored) -> web.Response:
    metrics.WEBHOOKS.labels(channel, provider, "ignored").inc()
    return web.json_response({"ok": True, "ignored": outcome.reason})
