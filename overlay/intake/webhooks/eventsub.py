"""What the app does with a verified Twitch EventSub message (overlay.intake.webhooks.twitch).

- ``webhook_callback_verification``: the raw challenge as ``text/plain`` 200, and the
  subscription shown as enabled on the dashboard.
- A message id seen in the last ``2 × TOLERANCE_SECONDS``: 200, nothing done again (Twitch
  resends a message it is unsure we received; an older copy is refused as stale anyway).
- ``revocation``: logged once, recorded for the dashboard, 200.
- ``notification``: a charity donation goes through the same write path as every provider
  (``accept``), idempotent by (``twitch``, event id) whatever the message id.

A message id is remembered only once its answer is a 2xx: a delivery answered 503 (store
down) is resent by Twitch under the same id and must then be processed.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from overlay import metrics
from overlay.store.base import StoreUnavailable

from .base import Ignored, IncomingDonation
from .twitch import TOLERANCE_SECONDS, Challenge, Revocation, TwitchDelivery

log = logging.getLogger(__name__)
PROVIDER = "twitch"
REMEMBER_MS = 2 * TOLERANCE_SECONDS * 1000
Accept = Callable[[Any, str, IncomingDonation], Awaitable[web.Response]]


async def receive(svc: Any, delivery: TwitchDelivery, accept: Accept) -> web.Response:
    channel, outcome = svc.cfg.id, delivery.outcome
    if isinstance(outcome, Challenge):
        try:
            await _set_status(svc, outcome.subscription_type, "enabled")
        except StoreUnavailable:  # the subscription must not fail for a status line
            log.warning("twitch %s: storage unavailable, the subscription's status is not recorded", channel)
        log.info("twitch %s: subscription %.64r verified", channel, outcome.subscription_type)
        metrics.WEBHOOKS.labels(channel, PROVIDER, "verification").inc()
        return web.Response(text=outcome.text, content_type="text/plain")
    if await svc.store.delivery_seen(channel, PROVIDER, delivery.message_id):
        metrics.WEBHOOKS.labels(channel, PROVIDER, "duplicate").inc()
        return web.json_response({"ok": True, "duplicate": True})
    if isinstance(outcome, Revocation):
        log.warning("twitch %s: subscription %.64r revoked by Twitch (%.64s)", channel,
                    outcome.subscription_type, outcome.status)
        await _set_status(svc, outcome.subscription_type, outcome.status)
        metrics.WEBHOOKS.labels(channel, PROVIDER, "revocation").inc()
        answer = web.json_response({"ok": True, "revoked": outcome.subscription_type})
    elif isinstance(outcome, Ignored):
        metrics.WEBHOOKS.labels(channel, PROVIDER, "ignored").inc()
        answer = web.json_response({"ok": True, "ignored": outcome.reason})
    else:
        answer = await accept(svc, PROVIDER, outcome)
    if answer.status < 300:
        await svc.store.remember_delivery(channel, PROVIDER, delivery.message_id,
                                          int(time.time() * 1000) + REMEMBER_MS)
    return answer


async def _set_status(svc: Any, subscription_type: str, status: str) -> None:
    await svc.store.put_integration_status(svc.cfg.id, PROVIDER, subscription_type or "unknown",
                                           {"status": status, "at": int(time.time() * 1000)})
