"""Pure webhook verification and parsing, one module per provider.

Each parser is `parse(headers, body, settings, now)`: it verifies the
provider's signature over the raw body, then returns IncomingDonation,
IncomingRefund or Ignored, or raises WebhookError. No I/O. (PayPal's parser checks all but
the signature, whose certificate must be fetched: paypal_delivery.verify does that.)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from . import generic, kofi, paypal, stripe, tiltify, twitch
from .base import Ignored, IncomingDonation, IncomingRefund, WebhookError, WebhookResult
from overlay.settings.webhooks import (
    GenericSettings,
    KofiSettings,
    PayPalSettings,
    StripeSettings,
    TiltifySettings,
    TwitchSettings,
    WebhookSettings,
)

# Twitch's parser returns a TwitchDelivery (a challenge, a revocation or a result, with its message id);
# PayPal's a PayPalDelivery (its signature still to be checked against a fetched certificate).
Parser = Callable[[Mapping[str, str], bytes, Any, datetime],
                  WebhookResult | twitch.TwitchDelivery | paypal.PayPalDelivery]

PARSERS: dict[str, Parser] = {
    "tiltify": tiltify.parse,
    "kofi": kofi.parse,
    "stripe": stripe.parse,
    "generic": generic.parse,
    "twitch": twitch.parse,
    "paypal": paypal.parse,
}

def settings_for(webhooks: WebhookSettings | None, provider: str) -> Any | None:
    """The provider's settings on a channel, or None when it is not configured
    (the app should then answer 404: the endpoint does not exist)."""
    # WebhookSettings has one attribute per provider, named after it.
    if webhooks is None or provider not in PARSERS:
        return None
    return getattr(webhooks, provider)


__all__ = [
    "PARSERS", "Parser", "settings_for",
    "IncomingDonation", "IncomingRefund", "Ignored", "WebhookError", "WebhookResult",
    "WebhookSettings", "TiltifySettings", "KofiSettings", "StripeSettings", "GenericSettings",
    "TwitchSettings", "PayPalSettings",
]
