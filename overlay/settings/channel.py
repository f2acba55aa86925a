"""A channel: the ``channels[]`` entries of config.yaml."""
from __future__ import annotations

import functools
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from overlay.settings import amounts as money
from overlay.settings.base import DecimalStr, Strict
from overlay.settings.checks import check_variations, check_widgets
from overlay.settings.incentives import IncentiveSettings
from overlay.settings.live import LiveSettings
from overlay.settings.sources import SourceSettings
from overlay.settings.timer import TimerSettings
from overlay.settings.webhooks import WebhookSettings


@functools.lru_cache(maxsize=4096)
def _misfit(value: Any, kind: type, text: str, currency: str, zero_ok: bool) -> str | None:
    """Why ``currency`` cannot hold the amount, or None. Cached: 10,000 channels repeat the same few
    amounts (the defaults); ``kind`` and ``text`` keep 1.0 and 1.00, equal Decimals, apart."""
    try:
        money.parse_amount(value, currency, allow_zero=zero_ok)
    except money.MoneyError as exc:
        return str(exc)
    return None


class CampaignSettings(Strict):
    title: str = Field("", max_length=200)
    goal: DecimalStr = Decimal("1000")
    donate_url: str | None = None
    milestones: list[DecimalStr] = []


class MatchSettings(Strict):
    sponsor: str = Field(..., min_length=1, max_length=100)
    multiplier: DecimalStr = Field(Decimal(2), ge=1, le=100)
    cap: DecimalStr = Field(..., gt=0)
    starts_at: datetime | None = None
    ends_at: datetime | None = None


# Bounds of alert timing, in ms: config.yaml and the run-time change (docs/editor.md) share them.
ALERT_DURATION_MS = (1000, 120_000)
ALERT_GAP_MS = (0, 60_000)


class TierSettings(Strict):
    min_amount: DecimalStr = Field(..., ge=0)
    duration_ms: int | None = Field(None, ge=ALERT_DURATION_MS[0], le=ALERT_DURATION_MS[1])
    sound: str | None = None
    image: str | None = None


class TtsSettings(Strict):
    """Text-to-speech of messages (docs/tts.md). voice: a Piper model (*.onnx), an eSpeak NG
    voice name, or null for the eSpeak NG voice of the channel's language."""
    enabled: bool = False
    min_amount: DecimalStr = Field(Decimal("5.00"), ge=0)
    max_chars: int = Field(200, ge=1, le=1000)
    voice: str | None = Field(None, min_length=1, max_length=500)
    # A donor's messages are spoken at most once per this many seconds (0: no limit).
    donor_cooldown_s: int = Field(0, ge=0, le=86_400)
    # Speak only the messages a moderator approved in the screening queue (held, then approved).
    only_approved: bool = False


class AlertSettings(Strict):
    min_amount: DecimalStr = Field(Decimal("1.00"), ge=0)
    duration_ms: int = Field(8000, ge=ALERT_DURATION_MS[0], le=ALERT_DURATION_MS[1])
    gap_ms: int = Field(1000, ge=ALERT_GAP_MS[0], le=ALERT_GAP_MS[1])
    tiers: list[TierSettings] = []
    tts: TtsSettings = TtsSettings()
    # overlay.domain.alert_variations; checked with the channel (conditions that can never match).
    variations: list[dict[str, Any]] = Field([], max_length=50)


class ModerationSettings(Strict):
    hold: Literal["none", "messages", "all"] = "none"
    banned_words: list[str] = []
    strip_links: bool = True
    name_min_amount: DecimalStr = Field(Decimal(0), ge=0)
    max_message_length: int = Field(255, ge=0, le=2000)


class DonatePageSettings(Strict):
    # pledge: the form records pending pledges; stripe: it opens a Stripe Checkout (docs/stripe.md);
    # off: the sticker links to campaign.donate_url.
    mode: Literal["pledge", "stripe", "off"] = "pledge"
    presets: list[DecimalStr] = Field([Decimal(5), Decimal(10), Decimal(20), Decimal(50)], max_length=12)
    rate_limit_per_minute: int = Field(5, ge=1, le=1000)
    # The page is public: without a ceiling one troll's pledge of a billion fills the moderators'
    # queue with absurd figures. null lifts it (pledges still wait for a moderator to confirm).
    max_amount: DecimalStr | None = Decimal("1000")


class ChannelSettings(Strict):
    id: str = Field(..., pattern=r"^[a-z0-9-]{1,32}$")
    name: str = Field(..., min_length=1, max_length=100)
    currency: str = "EUR"
    locale: str = "en_US"
    overlay_key: str = Field(..., min_length=8)
    moderator_tokens: list[str] = Field(..., min_length=1)
    fx: dict[str, DecimalStr] = {}
    campaign: CampaignSettings = CampaignSettings()
    match: MatchSettings | None = None
    alerts: AlertSettings = AlertSettings()
    moderation: ModerationSettings = ModerationSettings()
    widgets: dict[str, dict[str, Any]] = {}
    webhooks: WebhookSettings = WebhookSettings()
    sources: SourceSettings = SourceSettings()
    donate_page: DonatePageSettings = DonatePageSettings()
    live: LiveSettings | None = None
    incentives: list[IncentiveSettings] = Field([], max_length=50)
    timer: TimerSettings = TimerSettings()

    @field_validator("currency")
    @classmethod
    def _currency(cls, v: str) -> str:
        return money.check_currency(v)

    @field_validator("incentives")
    @classmethod
    def _incentive_ids(cls, v: list[IncentiveSettings]) -> list[IncentiveSettings]:
        if len({i.id for i in v}) != len(v):
            raise ValueError("incentive ids must be unique")
        return v

    @field_validator("locale")
    @classmethod
    def _locale(cls, v: str) -> str:
        return money.check_locale(v)

    @field_validator("widgets")
    @classmethod
    def _widgets(cls, v: dict[str, dict[str, Any]], info: ValidationInfo) -> dict[str, dict[str, Any]]:
        return check_widgets(v, info)  # each widget's Settings model; errors keep their full key

    @field_validator("moderator_tokens")
    @classmethod
    def _tokens(cls, v: list[str]) -> list[str]:
        if any(len(t) < 8 for t in v):
            raise ValueError("each token needs at least 8 characters")
        return v

    @field_validator("fx")
    @classmethod
    def _fx(cls, v: dict[str, Decimal]) -> dict[str, Decimal]:
        for code, rate in v.items():
            money.check_currency(code)
            if not rate.is_finite() or rate <= 0:
                raise ValueError(f"rate for {code} must be > 0")
        return {code.upper(): rate for code, rate in v.items()}

    @model_validator(mode="after")
    def _amounts_fit_currency(self, info: ValidationInfo) -> "ChannelSettings":
        # Amounts that the currency cannot represent would fail later, at the first donation.
        checks = [("campaign.goal", self.campaign.goal, False),
                  ("alerts.min_amount", self.alerts.min_amount, True),
                  ("alerts.tts.min_amount", self.alerts.tts.min_amount, True),
                  ("moderation.name_min_amount", self.moderation.name_min_amount, True)]
        if self.match:
            checks.append(("match.cap", self.match.cap, False))
        checks += [(f"donate_page.presets[{i}]", p, False) for i, p in enumerate(self.donate_page.presets)]
        if self.donate_page.max_amount is not None:
            checks.append(("donate_page.max_amount", self.donate_page.max_amount, False))
        checks += [(f"incentives[{i}].{f}", getattr(inc, f), False) for i, inc in enumerate(self.incentives)
                   for f in ("amount", "min_amount") if getattr(inc, f, None) is not None]
        checks.append(("timer.min_amount", self.timer.min_amount, True))
        checks += [(f"timer.rules[{i}].min_amount", r.min_amount, True) for i, r in enumerate(self.timer.rules)]
        for label, value, zero_ok in checks:
            problem = _misfit(value, type(value), str(value), self.currency, zero_ok)
            if problem is not None:
                raise ValueError(f"{label}: {problem}")
        try:
            check_variations(info, self.alerts.variations, self.currency, {i.id for i in self.incentives})
        except ValueError as exc:
            raise ValueError(f"alerts.{exc}") from None
        if self.donate_page.mode == "stripe" and self.webhooks.stripe is None:
            # Without the webhook nothing paid on Stripe would ever be booked.
            raise ValueError("donate_page.mode: stripe needs webhooks.stripe (its secret books the payments)")
        ceiling = self.donate_page.max_amount
        for i, p in enumerate(self.donate_page.presets):
            if ceiling is not None and p > ceiling:  # a button the page would then refuse
                raise ValueError(f"donate_page.presets[{i}]: must be <= donate_page.max_amount ({ceiling})")
        return self
