"""A stored channel's record: its settings without secrets in clear, and the views of it.

The overlay key stays in clear (it sits in OBS URLs and is shown again); moderator tokens are
stored as ``sha256$<salt>$<digest>`` (a random salt per token) and compared by hashing what a
client presents (``overlay.web.auth.matching_token``). Webhook secrets are stored (a platform's
signature is checked with them) but never shown: a view says which providers are configured.
"""
from __future__ import annotations

import hashlib
import secrets
from typing import Any

from overlay.config import ChannelSettings
from overlay.secret import secret_equal

HASHED = "sha256$"
META = ("disabled", "created_at", "updated_at", "version")


def new_secret() -> str:
    return secrets.token_urlsafe(24)


def hash_token(token: str, salt: str | None = None) -> str:
    salt = salt if salt is not None else secrets.token_hex(16)
    # surrogatepass: a lone surrogate from JSON hashes (and fails to match) instead of raising
    digest = hashlib.sha256(f"{salt}:{token}".encode("utf-8", "surrogatepass")).hexdigest()
    return f"{HASHED}{salt}${digest}"


def token_matches(given: object, stored: str) -> bool:
    """Constant-time: does the presented token match a stored token (hashed or in clear)?"""
    if not stored.startswith(HASHED):
        return secret_equal(given, stored)
    salt = stored.removeprefix(HASHED).partition("$")[0]
    text = given if isinstance(given, str) else ""
    return secret_equal(hash_token(text, salt), stored) and isinstance(given, str)


def settings_of(record: dict[str, Any]) -> ChannelSettings:
    """The settings a record describes (pydantic's ValidationError, a ValueError, if none)."""
    return ChannelSettings.model_validate({k: v for k, v in record.items() if k not in META})


def record_of(cfg: ChannelSettings, *, disabled: bool, created_at: str, updated_at: str,
              version: int) -> dict[str, Any]:
    body = cfg.model_dump(mode="json", exclude_unset=True)
    body.update(id=cfg.id, overlay_key=cfg.overlay_key, moderator_tokens=list(cfg.moderator_tokens))
    return {**body, "disabled": disabled, "created_at": created_at, "updated_at": updated_at, "version": version}


def view(cfg: ChannelSettings, record: dict[str, Any] | None) -> dict[str, Any]:
    """What the admin API shows of a channel: no moderator token, no webhook secret."""
    shown = cfg.model_dump(mode="json", exclude={"moderator_tokens", "webhooks", "live"})
    configured = [name for name, value in cfg.webhooks.model_dump().items() if value is not None]
    shown.update(webhooks=sorted(configured), live=cfg.live is not None, moderator_tokens=len(cfg.moderator_tokens))
    if record is None:
        return {**shown, "source": "config", "disabled": False}
    return {**shown, "source": "api", **{k: record[k] for k in META}}


def disabled_view(record: dict[str, Any]) -> dict[str, Any]:
    """A disabled channel's view, from its record (its settings are not in the registry)."""
    try:
        return view(settings_of(record), record)
    except ValueError:
        return {"id": record["id"], "name": record.get("name", ""), "source": "api",
                **{k: record.get(k) for k in META}}


def _matches(record: dict[str, Any], q: str) -> bool:
    q = q.casefold()
    return not q or q in record["id"] or q in str(record.get("name", "")).casefold()


def page(records: list[dict[str, Any]], q: str, limit: int,
         cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
    """Records sorted by id after ``cursor`` that match ``q`` (id or name), and the next cursor."""
    found = sorted((r for r in records if (cursor is None or r["id"] > cursor) and _matches(r, q)),
                   key=lambda r: r["id"])
    more = len(found) > limit
    found = found[:limit]
    return found, found[-1]["id"] if more and found else None
