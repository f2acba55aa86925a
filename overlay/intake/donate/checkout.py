"""``donate_page.mode: stripe``: the donate form opens a Stripe Checkout Session and sends the
donor there. Nothing is stored here: the donation is booked when Stripe's signed
``checkout.session.completed`` webhook arrives (overlay/intake/webhooks/stripe.py), with the
donor's name, message, anonymity and incentive read back from the session's metadata.

The official ``stripe`` library, through its async methods on an aiohttp session (the event
loop is never blocked); one client per channel, closed at shutdown.
"""
from __future__ import annotations

import hashlib
import json
import logging
from typing import Any
from urllib.parse import urlencode

import stripe
from aiohttp import web

from overlay import keys
from overlay.config import ChannelSettings, stripe_api_key
from overlay.domain import money
from overlay.domain.donations import DonationInput
from overlay.intake import stripe_metadata
from overlay.intake.donate import view
from overlay.intake.donate.text import TEXTS
from overlay.intake.webhooks.stripe import stripe_minor

log = logging.getLogger(__name__)
TIMEOUT_S = 20  # a donor waits on a spinner for this long at most before the page says so
CHECKOUT_LOCALES = {"fr": "fr", "en": "en"}


class CheckoutFailed(Exception):
    """Stripe could not be reached or refused the session: the donor is told to try again."""


class Checkout:
    def __init__(self) -> None:
        self._clients: dict[str, tuple[stripe.StripeClient, stripe.AIOHTTPClient]] = {}

    def _client(self, cfg: ChannelSettings) -> stripe.StripeClient:
        if cfg.id not in self._clients:
            settings = cfg.webhooks.stripe
            assert settings is not None  # config.py refuses mode stripe without it
            http = stripe.AIOHTTPClient(timeout=TIMEOUT_S)
            bases: Any = {"api": settings.api_base} if settings.api_base else None
            client = stripe.StripeClient(stripe_api_key(cfg) or "", base_addresses=bases, http_client=http,
                                         max_network_retries=1)
            self._clients[cfg.id] = (client, http)
        return self._clients[cfg.id][0]

    async def open_session(self, cfg: ChannelSettings, public_url: str, lang: str, inp: DonationInput,
                           incentive: dict[str, str] | None, nonce: str) -> str:
        """The Checkout page's URL for this donation."""
        params = session_params(cfg, public_url, lang, inp, incentive)
        # The same form sent twice opens the same session; a changed form, a new one.
        digest = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:24]
        try:
            session = await self._client(cfg).v1.checkout.sessions.create_async(
                params=params, options={"idempotency_key": f"overlay-{cfg.id}-{nonce}-{digest}"})
        except stripe.StripeError as exc:
            # The library's message names no secret; the donor's words are not in it either.
            log.error("donate %s: Stripe refused the Checkout Session: %s (%s)", cfg.id, type(exc).__name__,
                      getattr(exc, "code", None))
            raise CheckoutFailed() from None
        if not isinstance(session.url, str) or not session.url.startswith(("https://", "http://")):
            log.error("donate %s: Stripe answered a Checkout Session without a URL", cfg.id)
            raise CheckoutFailed()
        return session.url

    async def close(self) -> None:
        for _, http in self._clients.values():
            await http.close_async()
        self._clients.clear()


def session_params(cfg: ChannelSettings, public_url: str, lang: str, inp: DonationInput,
                   incentive: dict[str, str] | None) -> dict[str, Any]:
    base = f"{public_url.rstrip('/')}/donate/{cfg.id}"
    minor = money.parse_amount(inp.amount, cfg.currency)
    meta = stripe_metadata.encode(stripe_metadata.CheckoutDonor(
        cfg.id, inp.donor_name, inp.message, incentive, inp.display_name or "full", inp.alias, inp.show_amount))
    return {
        "mode": "payment",
        "line_items": [{"quantity": 1, "price_data": {
            "currency": cfg.currency.lower(), "unit_amount": stripe_minor(minor, cfg.currency),
            "product_data": {"name": TEXTS[lang]["checkout_item"].format(name=cfg.name)}}}],
        # {CHECKOUT_SESSION_ID} is filled in by Stripe, not by us.
        "success_url": f"{base}/thanks?{urlencode({'lang': lang, 'paid': '1'})}&session_id={{CHECKOUT_SESSION_ID}}",
        "cancel_url": f"{base}?{urlencode({'lang': lang})}",
        "metadata": meta,
        "payment_intent_data": {"metadata": meta},  # the payment in Stripe's dashboard shows them too
        "locale": CHECKOUT_LOCALES.get(lang, "auto"),
    }


CHECKOUT: web.AppKey[Checkout] = web.AppKey("checkout", Checkout)


async def start_checkout(request: web.Request, cfg: ChannelSettings, lang: str, inp: DonationInput,
                         nonce: str) -> web.Response:
    """Send the donor to Stripe's Checkout page (303), or say that payments cannot start now."""
    public_url = request.app[keys.CONFIG].server.public_url
    # The donor's choice ({id, option?}, checked by the caller) travels in the session's metadata.
    incentive = inp.incentive
    try:
        url = await request.app[CHECKOUT].open_session(cfg, public_url, lang, inp, incentive, nonce)
    except CheckoutFailed:
        t = TEXTS[lang]
        return view.notice(request, lang, t["pay_down_title"], t["pay_down_text"], status=502, cfg=cfg, back=True)
    raise web.HTTPSeeOther(url)


async def _close_checkout(app: web.Application) -> None:
    await app[CHECKOUT].close()


def setup_checkout(app: web.Application) -> None:
    app[CHECKOUT] = Checkout()  # its HTTP sessions open at the first donation, in the running loop
    app.on_cleanup.append(_close_checkout)
