"""What the app does with a PayPal delivery (overlay.intake.webhooks.paypal).

- ``verify``: fetch the signing certificate (paypal_certs), check the signature, read the body.
- ``receive``: a ``PAYPAL-TRANSMISSION-ID`` answered 2xx in the last ``2 × TOLERANCE_SECONDS`` is
  answered again without doing anything; a completed capture goes through the write path like
  every provider's donation (idempotent by its capture id), a full refund or a reversal takes
  it out of the totals as Stripe's refunds do, a partial refund is acknowledged and ignored.
"""
from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web

from overlay import metrics
from overlay.domain import money

from . import paypal
from .base import Ignored, IncomingDonation
from .paypal_certs import CertificateCache
from .redelivery import ignored, once

log = logging.getLogger(__name__)
PROVIDER = "paypal"
REMEMBER_MS = 2 * paypal.TOLERANCE_SECONDS * 1000
Accept = Callable[[Any, str, IncomingDonation], Awaitable[web.Response]]


@dataclass(frozen=True)
class PayPalEvent:
    """A verified delivery: ``outcome`` says what to do, ``transmission_id`` what to de-duplicate by."""
    transmission_id: str
    outcome: IncomingDonation | paypal.PayPalRefund | Ignored


async def verify(delivery: paypal.PayPalDelivery, certs: CertificateCache, now: datetime) -> PayPalEvent:
    paypal.verify(delivery, await certs.get(delivery.cert_url), now)
    return PayPalEvent(delivery.transmission_id, paypal.read_event(delivery.body))


async def receive(svc: Any, event: PayPalEvent, accept: Accept) -> web.Response:
    outcome = event.outcome

    async def handle() -> web.Response:
        if isinstance(outcome, paypal.PayPalRefund):
            return await _refund(svc, outcome)
        if isinstance(outcome, Ignored):
            return ignored(svc.cfg.id, PROVIDER, outcome)
        return await accept(svc, PROVIDER, outcome)

    return await once(svc, PROVIDER, event.transmission_id, REMEMBER_MS, handle)


async def _refund(svc: Any, refund: paypal.PayPalRefund) -> web.Response:
    channel = svc.cfg.id
    rec = await svc.find_external(PROVIDER, refund.external_id)
    if rec is not None and not _whole(rec, refund):
        # As for Stripe: the alert and the totals are public already; the streamer settles it by hand.
        log.warning("paypal %s: partial refund of donation %s ignored", channel, rec["id"])
        return ignored(channel, PROVIDER, Ignored("partial paypal refund: the donation is kept"))
    refunded = await svc.refund(PROVIDER, refund.external_id)
    metrics.WEBHOOKS.labels(channel, PROVIDER, "refund").inc()
    return web.json_response({"ok": True, "refunded": refunded["id"] if refunded else None})


def _whole(rec: dict[str, Any], refund: paypal.PayPalRefund) -> bool:
    if refund.refunded is None:
        return True
    if refund.currency != rec["original_currency"]:
        return False
    try:
        return money.parse_amount(refund.refunded, refund.currency) >= rec["original_amount"]
    except money.MoneyError:
        return False
