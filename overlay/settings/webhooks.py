"""Per-channel webhook settings: the `channels[].webhooks` block of config.yaml."""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from overlay.settings.base import Strict

KofiType = Literal["Donation", "Subscription", "Commission", "Shop Order"]


_Strict = Strict  # frozen, extra keys refused, shared defaults not copied (overlay.settings.base)


def _silence(default: int | None) -> int | None:
    """`silence_warning_min`: the dashboard warns when the provider, having delivered in the
    last hours, has sent nothing for this many minutes; null never warns."""
    return Field(default, ge=1, le=24 * 60)


class TiltifySettings(_Strict):
    """`secret`: the webhook endpoint's "Webhook Signing ID" in Tiltify's developer dashboard."""
    silence_warning_min: int | None = _silence(30)

    secret: str = Field(min_length=1)
    # Keep-alive (overlay/intake/tiltify_keepalive.py): the application's credentials and the
    # webhook endpoint's id; Tiltify deactivates an endpoint that keeps failing.
    client_id: str | None = Field(None, min_length=1)
    client_secret: str | None = Field(None, min_length=1)
    webhook_id: str | None = Field(None, pattern=r"^[A-Za-z0-9-]{1,64}$")
    api_base: str = Field("https://v5api.tiltify.com", pattern=r"^https?://[^\s]+$")
    keepalive_interval_s: int = Field(600, ge=10, le=86_400)


class KofiSettings(_Strict):
    """`verification_token`: Ko-fi > Settings > API > Webhooks > Advanced."""
    silence_warning_min: int | None = _silence(60)

    verification_token: str = Field(min_length=1)
    count_types: list[KofiType] = Field(default_factory=lambda: ["Donation", "Subscription"])


class StripeSettings(_Strict):
    """`secret`: the endpoint's signing secret, `whsec_...`. `api_key`: the secret API key
    (`sk_...`, or write "${STRIPE_API_KEY}") that ``donate_page.mode: stripe`` creates Checkout
    Sessions with; unset, the STRIPE_API_KEY environment variable. `api_base`: another address
    for Stripe's API (a local fake such as stripe-mock, for tests)."""
    silence_warning_min: int | None = _silence(60)

    secret: str = Field(min_length=1)
    api_key: str | None = Field(None, min_length=1)
    api_base: str | None = Field(None, pattern=r"^https?://[^\s]+$")


class GenericSettings(_Strict):
    """`secret`: shared with the sender, which signs each body with HMAC-SHA256."""
    silence_warning_min: int | None = _silence(None)

    secret: str = Field(min_length=1)


class TwitchCheerSettings(_Strict):
    """Bits (`channel.cheer`) counted as donations: `value_per_bit` in `currency` each (Twitch
    pays the streamer about 0.01 USD a bit). They are the streamer's revenue, not gifts to the
    charity, so they are booked with `source: twitch_bits`."""

    value_per_bit: str = Field(pattern=r"^[0-9]{1,6}(\.[0-9]{1,6})?$")
    currency: str = Field("USD", pattern=r"^[A-Z]{3}$")

    @field_validator("value_per_bit")
    @classmethod
    def _positive(cls, value: str) -> str:
        if not value.strip("0."):
            raise ValueError("must be more than 0")
        return value


class TwitchSettings(_Strict):
    """`secret`: the one given as `transport.secret` when creating the EventSub subscription;
    Twitch accepts 10 to 100 ASCII characters. `cheer`: count bits (off unless given)."""
    silence_warning_min: int | None = _silence(60)

    secret: str
    cheer: TwitchCheerSettings | None = None
    # `python server.py twitch-subscribe` (docs/webhooks.md): the streamer's Twitch application.
    client_id: str | None = Field(None, min_length=1)
    client_secret: str | None = Field(None, min_length=1)
    broadcaster_user_id: str | None = Field(None, pattern=r"^[0-9]{1,20}$")
    api_base: str = Field("https://api.twitch.tv/helix", pattern=r"^https?://[^\s]+$")
    auth_base: str = Field("https://id.twitch.tv/oauth2", pattern=r"^https?://[^\s]+$")

    @field_validator("secret")
    @classmethod
    def _twitch_accepts_it(cls, value: str) -> str:
        if not 10 <= len(value) <= 100 or not value.isascii() or not value.isprintable():
            raise ValueError("must be 10 to 100 printable ASCII characters (Twitch refuses others)")
        return value


# PayPal's REST API hosts, live and sandbox: the only places a signing certificate is fetched from.
PAYPAL_CERT_HOSTS = ["api.paypal.com", "api-m.paypal.com", "api.sandbox.paypal.com", "api-m.sandbox.paypal.com"]


class PayPalSettings(_Strict):
    """`webhook_id`: the id PayPal shows for the listener URL (Developer Dashboard > Apps > the app >
    Webhooks). `cert_hosts`: where the signing certificate may be fetched from: a host (https) or
    an origin (`http://127.0.0.1:8080`: a test fake, or a proxy of your own); PayPal's API hosts
    unless given."""

    webhook_id: str = Field(pattern=r"^[A-Za-z0-9]{1,50}$")
    cert_hosts: list[str] = Field(default_factory=lambda: list(PAYPAL_CERT_HOSTS), min_length=1)

    @field_validator("cert_hosts")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        for entry in value:
            if not re.fullmatch(r"(https?://)?([A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\])(:[0-9]{1,5})?/?", entry) or \
                    not _valid_port(entry):
                raise ValueError("each entry must be a host name or a scheme://host[:port] origin")
        return value


def _valid_port(entry: str) -> bool:
    try:
        urlsplit(entry if "://" in entry else f"https://{entry}").port
    except ValueError:
        return False
    return True


class WebhookSettings(_Strict):
    tiltify: TiltifySettings | None = None
    kofi: KofiSettings | None = None
    stripe: StripeSettings | None = None
    generic: GenericSettings | None = None
    twitch: TwitchSettings | None = None
    paypal: PayPalSettings | None = None
