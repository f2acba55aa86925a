"""What the app does with a verified Twitch EventSub message (overlay.intake.webhooks.twitch).

- ``webhook_callback_verification``: the raw challenge as ``text/plain`` 200, and the
  subscription shown as enabled on the dashboard.
- A message id seen in the last ``2 × TOLERANCE_SECONDS``: 200, nothing done again (Twitch
  resends a message it is unsure we received; an older copy is refused as stale anyway).
- ``revocation``: logged once, recorded for the dashboard, 200.
- ``notification``: a charity donation goes through the same write path as every provider
  (``accept``), idempotent by (``twitch``, event id) whatever the message id.

A message id is remembered only once its answer is a 2xx (redelivery.once).
"""
from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from overlay import metrics
from overlay.errors import StoreUnavailable

from .base import Ignored, IncomingDonation
from .redelivery import ignored, once
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

    async def handle() -> web.Response:
        if isinstance(outcome, Revocation):
            log.warning("twitch %s: subscription %.64r revoked by Twitch (%.64s)", channel,
                        outcome.subscription_type, outcome.status)
            await _set_status(svc, outcome.subscription_type, outcome.status)
            metrics.WEBHOOKS.labels(channel, PROVIDER, "revocation").inc()
            return web.json_response({"ok": True, "revoked": outcome.subscription_type})
        if isinstance(outcome, Ignored):
            return ignored(channel, PROVIDER, outcome)
        return await accept(svc, PROVIDER, outcome)

    return await once(svc, PROVIDER, delivery.message_id, REMEMBER_MS, handle)


async def _set_status(svc: Any, subscription_type: str, status: str) -> None:
    await svc.put_integration_status(PROVIDER, subscription_type or "unknown",
                                     {"status": status, "at": int(time.time() * 1000)})
