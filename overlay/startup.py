"""What the start-up listing says about secrets (where each channel's moderator token comes
from, and a warning while a shipped ``change-me`` placeholder is still in use) and, once the
store is read, how many channels there are."""
from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from overlay.config import Config, ConfigError, read_yaml

if TYPE_CHECKING:
    from overlay.registry import ChannelRegistry

PLACEHOLDER = "change-me"
EACH_UP_TO = 50  # channels whose token line is printed; beyond, the first one's and a count of warnings
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-[^}]*)?\}")
RED, RESET = "\033[1;31m", "\033[0m"


def _placeholders(node: Any, path: str) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _placeholders(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _placeholders(value, f"{path}[{i}]")
    elif isinstance(node, str) and PLACEHOLDER in node:
        yield path


def _raw_channels(config_path: str | Path) -> dict[str, dict[str, Any]]:
    """Each channel as written in the file, before ${VAR} is replaced."""
    try:
        raw = read_yaml(config_path, last_use=True) or {}  # the one kept from load_config
        return {str(c["id"]): c for c in raw.get("channels") or []}
    except (ConfigError, AttributeError, KeyError, TypeError):
        return {}  # the listing is a help: a file it cannot read again only loses the "where from"


def _tokens(raw: dict[str, Any]) -> list[str]:
    try:
        return [str(t) for t in raw.get("moderator_tokens") or []]
    except TypeError:
        return []


def _may_hold_placeholder(raw: dict[str, Any] | None, env_has_one: bool) -> bool:
    """Whether the channel's settings can hold a change-me value: written in its entry (a value or
    a ${VAR:-change-me} default), or given by the environment. Only then are its settings walked."""
    return raw is None or env_has_one or PLACEHOLDER in str(raw)  # str(): one C call, not a walk


def token_source(written: str | None, env: Mapping[str, str]) -> str:
    names = _VAR.findall(written or "")
    if not names:
        return "written in the config file (moderator_tokens)"
    if all(name in env for name in names):
        return f"from the environment: {', '.join(names)}"
    return f"the config file's default (set {', '.join(names)} to choose your own)"


def secret_lines(config: Config, config_path: str | Path, env: Mapping[str, str], colour: bool) -> list[str]:
    """Per channel: where the moderator token comes from, then, in red on a terminal, every
    secret still holding a change-me placeholder. Beyond EACH_UP_TO channels, the first one's
    token line and one warning naming the channels with placeholders."""
    raw, lines, weak_channels = _raw_channels(config_path), [], []
    each = len(config.channels) <= EACH_UP_TO
    env_has_one = any(PLACEHOLDER in value for value in env.values())
    for i, c in enumerate(config.channels):
        if each or i == 0:
            written = _tokens(raw.get(c.id) or {})
            lines.append(f"Channel {c.id}: moderator token {token_source(written[0] if written else None, env)}")
        weak = list(_placeholders(c.model_dump(mode="json"), "")) if _may_hold_placeholder(raw.get(c.id), env_has_one) else []
        if weak and each:
            lines.append(_red(f"WARNING: channel {c.id} still uses change-me secrets ({', '.join(weak)}): "
                              "anyone who read config.yaml can use them; set your own before going on air", colour))
        elif weak:
            weak_channels.append(c.id)
    if weak_channels:
        shown = ", ".join(weak_channels[:5]) + (", ..." if len(weak_channels) > 5 else "")
        lines.append(_red(f"WARNING: {len(weak_channels)} channels still use change-me secrets ({shown}): "
                          "anyone who read config.yaml can use them; set your own before going on air", colour))
    return lines


def _red(text: str, colour: bool) -> str:
    return f"{RED}{text}{RESET}" if colour else text


def channel_summary(registry: ChannelRegistry, config: Config) -> str:
    """One line once the store is read: how many channels, from where, and the admin page."""
    configured, total = len(registry.config_ids()), len(registry.ids())
    admin = (f"admin page: {config.server.public_url.rstrip('/')}/admin" if config.server.admin_tokens
             else "no admin page (server.admin_tokens is empty)")
    return f"{total} channels ({configured} from config.yaml, {total - configured} stored); {admin}"
