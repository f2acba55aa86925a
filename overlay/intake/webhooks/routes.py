"""POST /webhooks/{ch}/{provider}: verify, parse, then accept as any donation.

A 2xx is sent only once the donation is durably stored; storage down is 503 so the
platform retries. A donation we can never accept (no fx rate for its currency, an
amount the currency cannot hold) is answered 200 with the reason — and logged —
for the platforms that retry forever otherwise (Tiltify, Stripe, Ko-fi); the
generic webhook, written by an integrator who reads answers, gets the 422.
"""
from __future__ import annotations

import dataclasses
import logging
from datetime import datetime, timezone

from aiohttp import web

from overlay import keys
from overlay import metrics
from overlay.domain import incentives, wire
from overlay.domain.donations import DonationError, DonationInput
from overlay.errors import Refusal
from overlay.http.errors import KIND_STATUS, ApiError
from overlay.http.throttle import record_failure, retry_after, too_many
from overlay.intake.webhooks.base import BAD_CREDENTIAL
from overlay.intake.webhooks import PARSERS, Ignored, IncomingDonation, IncomingRefund, WebhookError, settings_for
from overlay.intake.webhooks import eventsub, health, paypal_delivery, samples
from overlay.errors import StoreUnavailable
from overlay.intake.webhooks.paypal import PayPalDelivery
from overlay.intake.webhooks.paypal_certs import CERTS, CertificateCache
from overlay.intake.webhooks.twitch import TwitchDelivery

log = logging.getLogger(__name__)
ANSWER_OK_ON_REFUSAL = {"tiltify", "stripe", "kofi", "twitch", "paypal"}


async def receive(request: web.Request) -> web.Response:
    """`_receive`, its outcome counted for the channel's integration health (health.py)."""
    status, refused = 500, False
    try:
        response = await _receive(request)
        # A 200 refusal ({"ok": true, "refused": ...}): our own answer, which echoes no sender's text.
        status, refused = response.status, isinstance(response.body, bytes) and b'"refused"' in response.body
        return response
    except StoreUnavailable:
        status = 503
        raise
    except web.HTTPException as exc:
        status = exc.status
        raise
    except Refusal as exc:  # an ApiError names its status; a domain refusal has its kind's
        status = exc.status if isinstance(exc, ApiError) else KIND_STATUS[exc.kind]
        raise
    finally:
        await _count(request, health.outcome(status, refused))


async def _count(request: web.Request, result: str) -> None:
    channel, provider = request.match_info["ch"], request.match_info["provider"]
    svc = request.app[keys.REGISTRY].service(channel)
    # Only a configured provider's endpoint is counted: any path must not create a counter.
    if svc is None or settings_for(svc.cfg.webhooks, provider) is None or request.headers.get(health.TEST_HEADER):
        return
    await request.app[keys.DELIVERY_HEALTH].record(svc, provider, result)


async def _receive(request: web.Request) -> web.Response:
    channel, provider = request.match_info["ch"], request.match_info["provider"]
    svc = request.app[keys.REGISTRY].service(channel)
    if svc is None:
        raise _refused(channel, provider, ApiError(404, "channel_not_found", "no such channel"))
    if provider not in PARSERS:
        raise _refused(channel, provider,
                       ApiError(404, "unknown_provider", f"provider must be one of {', '.join(PARSERS)}"))
    settings = settings_for(svc.cfg.webhooks, provider)
    if settings is None:
        raise _refused(channel, provider, ApiError(
            404, "provider_not_configured", f"{provider} webhooks are not configured for this channel"))
    wait = retry_after(request)
    if wait is not None:
        raise _refused(channel, provider, too_many(wait))
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise _refused(channel, provider, ApiError(413, "body_too_large", "the body is too large")) from None
    now = datetime.now(timezone.utc)
    try:
        result = PARSERS[provider](request.headers, body, settings, now)
        if isinstance(result, PayPalDelivery):  # the one check that needs I/O: PayPal's certificate
            result = await paypal_delivery.verify(result, request.app[CERTS], now)
    except WebhookError as exc:
        log.warning("webhook %s/%s refused: %s (%s)", channel, provider, exc.code, exc.status)
        metrics.WEBHOOKS.labels(channel, provider, exc.code).inc()
        if exc.code in BAD_CREDENTIAL:
            record_failure(request)
        raise
    if isinstance(result, TwitchDelivery):
        return await eventsub.receive(svc, result, _accept)
    if isinstance(result, paypal_delivery.PayPalEvent):
        return await paypal_delivery.receive(svc, result, _accept)
    if isinstance(result, IncomingRefund):
        rec = await svc.refund(provider, result.external_id)
        metrics.WEBHOOKS.labels(channel, provider, "refund").inc()
        return web.json_response({"ok": True, "refunded": rec["id"] if rec else None})
    if isinstance(result, IncomingDonation) and result.channel not in (None, channel):
        # One Stripe account, one endpoint per channel: each endpoint sees every channel's payments.
        result = Ignored("the payment was made on another channel's donate page")
    if not isinstance(result, IncomingDonation):
        metrics.WEBHOOKS.labels(channel, provider, "ignored").inc()
        return web.json_response({"ok": True, "ignored": result.reason})
    return await _accept(svc, provider, result)


# Providers whose donor has paid by the time the choice is checked here (Tiltify's ids are
# matched in the domain, which already books an unbookable choice without it).
PAID_BEFORE_CHOICE_CHECKED = frozenset({"stripe"})


def _refused(channel: str, provider: str, exc: ApiError) -> ApiError:
    # The path is the sender's: log it shortened and quoted, never a header or the body.
    log.warning("webhook %.40r/%.40r refused: %s (%s)", channel, provider, exc.code, exc.status)
    return exc


async def _accept(svc, provider: str, d: IncomingDonation) -> web.Response:  # noqa: ANN001
    inp = DonationInput(amount=d.amount, currency=d.currency, donor_name=d.donor_name, message=d.message,
                        source=d.source or provider, external_id=d.external_id,
                        created_at=wire.to_ms(d.created_at) if d.created_at else None, incentive=d.incentive,
                        test=samples.is_test(d.external_id),
                        display_name=d.display_name, alias=d.alias, show_amount=d.show_amount)
    try:
        rec, created = await svc.donate(inp)
    except DonationError as exc:
        if exc.code in incentives.REFUSALS and provider in PAID_BEFORE_CHOICE_CHECKED:
            # The donor has paid: a choice we cannot book (a poll closed while they paid) must
            # not lose the money; it goes to the campaign without the incentive. (A generic
            # webhook's sender gets the 422 and can send it again without the choice.)
            log.warning("webhook %s/%s: incentive refused (%s), booked without it", svc.cfg.id, provider, exc.code)
            return await _accept(svc, provider, dataclasses.replace(d, incentive=None))
        log.error("webhook %s/%s donation refused: %s", svc.cfg.id, provider, exc.code)
        metrics.WEBHOOKS.labels(svc.cfg.id, provider, exc.code).inc()
        if provider in ANSWER_OK_ON_REFUSAL and exc.kind == "invalid":
            return web.json_response({"ok": True, "refused": {"code": exc.code, "message": exc.message}})
        raise
    metrics.WEBHOOKS.labels(svc.cfg.id, provider, "donation" if created else "duplicate").inc()
    return web.json_response({"ok": True, "donation_id": rec["id"], "duplicate": not created})


def setup_webhooks(app: web.Application) -> None:
    app[keys.DELIVERY_HEALTH] = health.DeliveryHealth()
    app[CERTS] = CertificateCache()
    app.router.add_post("/webhooks/{ch}/{provider}", receive)
