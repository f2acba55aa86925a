"""What the start-up listing says about secrets: where each channel's moderator token comes
from, and a warning while a shipped ``change-me`` placeholder is still in use."""
from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from overlay.config import Config

PLACEHOLDER = "change-me"
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


def _raw_tokens(config_path: str | Path) -> dict[str, list[str]]:
    """Each channel's moderator_tokens as written in the file, before ${VAR} is replaced."""
    try:
        raw = yaml.safe_load(Path(config_path).read_text(encoding="utf-8")) or {}
        return {str(c["id"]): [str(t) for t in c.get("moderator_tokens") or []] for c in raw.get("channels") or []}
    except (OSError, yaml.YAMLError, AttributeError, KeyError, TypeError):
        return {}  # the listing is a help: a file it cannot read again only loses the "where from"


def token_source(written: str | None, env: Mapping[str, str]) -> str:
    names = _VAR.findall(written or "")
    if not names:
        return "written in the config file (moderator_tokens)"
    if all(name in env for name in names):
        return f"from the environment: {', '.join(names)}"
    return f"the config file's default (set {', '.join(names)} to choose your own)"


def secret_lines(config: Config, config_path: str | Path, env: Mapping[str, str], colour: bool) -> list[str]:
    """Per channel: where the moderator token comes from, then, in red on a terminal, every
    secret still holding a change-me placeholder."""
    raw, lines = _raw_tokens(config_path), []
    for c in config.channels:
        written = raw.get(c.id, [])
        lines.append(f"Channel {c.id}: moderator token {token_source(written[0] if written else None, env)}")
        weak = list(_placeholders(c.model_dump(mode="json"), ""))
        if weak:
            warning = (f"WARNING: channel {c.id} still uses change-me secrets ({', '.join(weak)}): "
                       "anyone who read config.yaml can use them; set your own before going on air")
            lines.append(f"{RED}{warning}{RESET}" if colour else warning)
    return lines
