"""The only place config.yaml is read: YAML -> ${VAR} interpolation -> pydantic models.

Every problem is reported as one line naming its key, e.g.
``channels[0].match.multiplier: must be >= 1``.
"""
from __future__ import annotations

import os
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from overlay import widgets
from overlay.domain import alert_variations
from overlay.settings import checks
from overlay.settings.channel import (  # noqa: F401 - the models' old home: re-exported
    ALERT_DURATION_MS, ALERT_GAP_MS, AlertSettings, CampaignSettings, ChannelSettings, DonatePageSettings,
    MatchSettings, ModerationSettings, TierSettings, TtsSettings)
from overlay.settings.incentives import IncentiveSettings, tag_message, untagged  # noqa: F401
from overlay.settings.root import Config
from overlay.settings.server import ServerSettings, StorageSettings  # noqa: F401
from overlay.settings.teams import TeamSettings  # noqa: F401
from overlay.store.redis_connect import check_redis_url

# What the settings check through modules they may not import (overlay/settings/checks.py).
CHECKS = {checks.REDIS_URL: check_redis_url, checks.WIDGETS: widgets.validate_config,
          checks.VARIATIONS: alert_variations.check}


class ConfigError(Exception):
    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


class _DecimalLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """YAML reads 10000.00 as a float; money must never pass through one. libyaml's parser
    when PyYAML has it: a config of 10,000 channels loads in a fraction of the time."""


def _construct_decimal(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Decimal:
    return Decimal(loader.construct_scalar(node).replace("_", ""))


_DecimalLoader.add_constructor("tag:yaml.org,2002:float", _construct_decimal)

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def _interpolate(node: Any, path: str, env: dict[str, str], problems: list[str]) -> Any:
    if isinstance(node, dict):
        return {k: _interpolate(v, f"{path}.{k}" if path else str(k), env, problems) for k, v in node.items()}
    if isinstance(node, list):
        return [_interpolate(v, f"{path}[{i}]", env, problems) for i, v in enumerate(node)]
    if not isinstance(node, str) or "$" not in node:
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
        config = Config.model_validate(data, context=CHECKS)
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


_last_read: dict[tuple[str, int, int], Any] = {}


def read_yaml(path: str | Path, *, last_use: bool = False) -> Any:
    """The file as YAML data, before ${VAR} is replaced; the caller must not change it. The last
    file read is kept while unchanged on disk, until a ``last_use`` read: start-up reads
    config.yaml twice (the settings, then the secrets listing of overlay.startup), and 10,000
    channels take a second to parse."""
    try:
        stat = os.stat(path)
        key = (str(Path(path).resolve()), stat.st_mtime_ns, stat.st_size)
        if key in _last_read:
            return _last_read.pop(key) if last_use else _last_read[key]
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read ({exc.strerror})"]) from None
    try:
        data = yaml.load(text, Loader=_DecimalLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.YAMLError as exc:
        raise ConfigError([f"{path}: not valid YAML ({exc})".replace("\n", " ")]) from None
    _last_read.clear()
    if not last_use:
        _last_read[key] = data
    return data


def load_config(path: str | Path, env: dict[str, str] | None = None) -> Config:
    return parse_config(read_yaml(path), env)
