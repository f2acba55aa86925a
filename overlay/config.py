"""The only place config.yaml is read: YAML -> ${VAR} interpolation -> pydantic models.

Every problem is reported as one line naming its key, e.g.
``channels[0].match.multiplier: must be >= 1``.
"""
from __future__ import annotations

import ipaddress
import os
import re
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError,
                      field_validator, model_validator)

from overlay.domain import alert_variations, money
from overlay.domain.incentive_settings import IncentiveSettings, tag_message, untagged
from overlay.domain.timer_settings import TimerSettings
from overlay import widgets
from overlay.live.settings import LiveSettings
from overlay.store.redis_connect import check_redis_url
from overlay.intake.webhooks.settings import WebhookSettings
from overlay.intake.sources.settings import SourceSettings


class ConfigError(Exception):
    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _decimal_literal(value: Any) -> Any:
    # A quoted number goes through the amount grammar of overlay.domain.money ("1e3", "1_000", " 5" are refused);
    # YAML numbers arrive as int or, with _DecimalLoader, as Decimal.
    return money.check_literal(value) if isinstance(value, str) else value


# Amounts, rates and multipliers in config: decimal strings or YAML numbers, read as Decimal.
DecimalStr = Annotated[Decimal, BeforeValidator(_decimal_literal)]


def _cidr(value: str) -> str:
    try:
        return str(ipaddress.ip_network(value.strip(), strict=False))
    except ValueError:
        raise ValueError(f"not an IP address or CIDR block: {value[:60]!r}") from None


Cidr = Annotated[str, AfterValidator(_cidr)]


class ServerSettings(Strict):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    public_url: str = "http://127.0.0.1:8080"
    ice_servers: list[str] = []
    # A user folder searched before the built-in templates (Datasette-style override).
    templates_dir: Path | None = None
    media_dir: Path | None = None
    # Uploads from the editor's media library (docs/editor.md): the largest file taken, per kind.
    media_max_image_kb: int = Field(2048, ge=1, le=51_200)
    media_max_sound_kb: int = Field(5120, ge=1, le=51_200)
    # Each channel's media library holds at most this much, in bytes and in files (413 beyond).
    media_quota_mb: int = Field(50, ge=1, le=102_400)
    media_quota_files: int = Field(100, ge=1, le=10_000)
    # Reverse proxies (CIDRs) whose X-Forwarded-For names the client; nobody else's is believed.
    trusted_proxies: list[Cidr] = []
    # When set, GET /metrics needs "Authorization: Bearer <metrics_token>".
    metrics_token: str | None = Field(None, min_length=16)
    # A Socket.IO connection that reads nothing of what it was sent for this long is cut
    # (overlay/realtime/stalls.py); the client reconnects and catches up.
    stalled_client_timeout_s: float = Field(30, ge=1, le=3600)
    # Spoken messages kept in memory by each process, in MB (docs/tts.md): the clip cache of
    # every channel's alerts.tts, bounded here because it is the process's memory.
    tts_cache_mb: int = Field(32, ge=1, le=4096)
    # "Authorization: Bearer <admin token>" opens the admin API and page (docs/channels.md);
    # OVERLAY_ADMIN_TOKEN in the environment adds one.
    admin_tokens: list[Annotated[str, Field(min_length=16, max_length=512)]] = Field([], max_length=20)


class StorageSettings(Strict):
    # redis://, rediss://, unix:// or redis+sentinel:// (overlay/store/redis_connect.py)
    redis_url: Annotated[str, AfterValidator(check_redis_url)] | None = None
    # A 201 waits until this many replicas have the donation (Redis WAIT): see docs/deployment.md.
    redis_min_replicas: int = Field(0, ge=0, le=16)
    data_dir: Path = Path("./data")


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
    def _widgets(cls, v: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        return widgets.validate_config(v)  # each widget's Settings model; errors keep their full key

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
    def _amounts_fit_currency(self) -> "ChannelSettings":
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
            try:
                money.parse_amount(value, self.currency, allow_zero=zero_ok)
            except money.MoneyError as exc:
                raise ValueError(f"{label}: {exc}") from None
        try:
            alert_variations.check(self.alerts.variations, self.currency, {i.id for i in self.incentives})
        except alert_variations.VariationError as exc:
            raise ValueError(f"alerts.{exc}") from None
        if self.donate_page.mode == "stripe" and self.webhooks.stripe is None:
            # Without the webhook nothing paid on Stripe would ever be booked.
            raise ValueError("donate_page.mode: stripe needs webhooks.stripe (its secret books the payments)")
        ceiling = self.donate_page.max_amount
        for i, p in enumerate(self.donate_page.presets):
            if ceiling is not None and p > ceiling:  # a button the page would then refuse
                raise ValueError(f"donate_page.presets[{i}]: must be <= donate_page.max_amount ({ceiling})")
        return self


class TeamSettings(Strict):
    """Channels raising toward one total: the sum of their campaign totals (docs/teams.md)."""
    id: str = Field(..., pattern=r"^[a-z0-9-]{1,32}$")
    name: str = Field(..., min_length=1, max_length=100)
    goal: DecimalStr = Field(Decimal("1000"), gt=0)
    currency: str | None = None  # None: the members' currency
    channels: list[str] = Field(..., min_length=1, max_length=10_000)

    @field_validator("currency")
    @classmethod
    def _currency(cls, v: str | None) -> str | None:
        return None if v is None else money.check_currency(v)


class Config(Strict):
    server: ServerSettings = ServerSettings()
    storage: StorageSettings = StorageSettings()
    channels: list[ChannelSettings] = Field(..., min_length=1)
    teams: list[TeamSettings] = []

    @model_validator(mode="after")
    def _teams(self) -> "Config":
        from overlay.domain.teams import check_teams  # the rules live with the rest of the team logic
        problems = check_teams(self.teams, {c.id: c.currency for c in self.channels})
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def team(self, team_id: str) -> TeamSettings | None:
        return next((t for t in self.teams if t.id == team_id), None)

    @field_validator("channels")
    @classmethod
    def _unique_ids(cls, v: list[ChannelSettings]) -> list[ChannelSettings]:
        ids = [c.id for c in v]
        if len(set(ids)) != len(ids):
            raise ValueError("channel ids must be unique")
        return v

    def channel(self, channel_id: str) -> ChannelSettings | None:
        return next((c for c in self.channels if c.id == channel_id), None)


class _DecimalLoader(yaml.SafeLoader):
    """YAML reads 10000.00 as a float; money must never pass through one."""


def _construct_decimal(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Decimal:
    return Decimal(loader.construct_scalar(node).replace("_", ""))


_DecimalLoader.add_constructor("tag:yaml.org,2002:float", _construct_decimal)

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def _interpolate(node: Any, path: str, env: dict[str, str], problems: list[str]) -> Any:
    if isinstance(node, dict):
        return {k: _interpolate(v, f"{path}.{k}" if path else str(k), env, problems) for k, v in node.items()}
    if isinstance(node, list):
        return [_interpolate(v, f"{path}[{i}]", env, problems) for i, v in enumerate(node)]
    if not isinstance(node, str):
        return node

    def sub(m: re.Match[str]) -> str:
        name, default = m.group(1), m.group(2)
        if name in env:
            return env[name]
        if default is not None:
            return default
        problems.append(f"{path}: environment variable {name} is not set")
        return ""

    return _VAR.sub(sub, node)


def _loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in untagged(loc):
        if isinstance(part, int):
            out += f"[{part}]"
        elif not str(part).startswith(("function-", "model-")):
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def _message(err: dict[str, Any]) -> str:
    ctx = err.get("ctx") or {}
    kind = err["type"]
    for key, sign in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
        if key in ctx and kind.startswith(("greater", "less")):
            return f"must be {sign} {ctx[key]}"
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "is required"
    msg = str(err["msg"])
    return msg.removeprefix("Value error, ")


def _lines(err: dict[str, Any]) -> list[str]:
    # A top-level check may find several problems: one line each, each naming its own key.
    if not err["loc"] and err["type"] == "value_error":
        return [line for line in _message(err).split("\n")]
    return [_line(err)]


def _line(err: dict[str, Any]) -> str:
    loc, msg = _loc(err["loc"]), _message(err)
    if tag_message(err):  # an incentive's kind, missing or unknown
        return f"{loc}.kind: {tag_message(err)}"
    # A model-level check names its sub-key in the message ("campaign.goal: ..."): join the paths.
    sub = re.match(r"^([a-z_]+(?:\[\d+\])?(?:\.[a-z_]+(?:\[\d+\])?)*): (.*)$", msg)
    if sub and err["type"] == "value_error":
        return f"{loc}.{sub.group(1)}: {sub.group(2)}"
    return f"{loc}: {msg}"


def parse_config(data: Any, env: dict[str, str] | None = None) -> Config:
    problems: list[str] = []
    data = _interpolate(data if data is not None else {}, "", dict(os.environ if env is None else env), problems)
    if problems:
        raise ConfigError(problems)
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError([line for e in exc.errors() for line in _lines(e)]) from None
    env = dict(os.environ if env is None else env)
    problems = _stripe_keys(config, env)
    if problems:
        raise ConfigError(problems)
    return _with_admin_token(config, env)


ADMIN_TOKEN_ENV = "OVERLAY_ADMIN_TOKEN"


def _with_admin_token(config: Config, env: dict[str, str]) -> Config:
    token = env.get(ADMIN_TOKEN_ENV, "").strip()
    if not token:
        return config
    if len(token) < 16:
        raise ConfigError([f"{ADMIN_TOKEN_ENV}: needs at least 16 characters"])
    server = config.server.model_copy(update={"admin_tokens": [*config.server.admin_tokens, token]})
    return config.model_copy(update={"server": server})


STRIPE_KEY_ENV = "STRIPE_API_KEY"


def stripe_api_key(cfg: ChannelSettings, env: dict[str, str] | None = None) -> str | None:
    """The secret key Checkout Sessions are created with: webhooks.stripe.api_key, else $STRIPE_API_KEY."""
    stripe = cfg.webhooks.stripe
    configured = stripe.api_key if stripe is not None else None
    return configured or (os.environ if env is None else env).get(STRIPE_KEY_ENV) or None


def _stripe_keys(config: Config, env: dict[str, str]) -> list[str]:
    return [f"channels[{i}].webhooks.stripe.api_key: is required by donate_page.mode stripe "
            f"(or set {STRIPE_KEY_ENV} in the environment)"
            for i, c in enumerate(config.channels)
            if c.donate_page.mode == "stripe" and stripe_api_key(c, env) is None]


def load_config(path: str | Path, env: dict[str, str] | None = None) -> Config:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read ({exc.strerror})"]) from None
    try:
        data = yaml.load(text, Loader=_DecimalLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.YAMLError as exc:
        raise ConfigError([f"{path}: not valid YAML ({exc})".replace("\n", " ")]) from None
    return parse_config(data, env)
