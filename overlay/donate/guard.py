"""What stands between a public form and the totals: a signed form token (the per-client
rate limit is ``overlay.ratelimit``).

The form token is ``issued_at.nonce.signature``: an HMAC over the channel, the time
and a random nonce, keyed by a hash of the channel's own secrets, so every worker
process started from the same config accepts the tokens of every other, and a
token made for one channel is worthless on another. The nonce becomes the pledge's
``external_id``: a double-tapped submit button records one pledge, not two, in
whichever process each request lands.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

from overlay.config import ChannelSettings

TOKEN_TTL_S = 2 * 3600


def _key(cfg: ChannelSettings) -> bytes:
    material = "\0".join(["overlay donate form v1", cfg.id, cfg.overlay_key, *cfg.moderator_tokens])
    return hashlib.sha256(material.encode("utf-8")).digest()


def _sign(cfg: ChannelSettings, issued: int, nonce: str) -> str:
    mac = hmac.new(_key(cfg), f"{cfg.id}.{issued}.{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def issue_token(cfg: ChannelSettings, now: float | None = None) -> str:
    issued, nonce = int(time.time() if now is None else now), secrets.token_urlsafe(12)
    return f"{issued}.{nonce}.{_sign(cfg, issued, nonce)}"


def check_token(cfg: ChannelSettings, token: object, now: float | None = None) -> str | None:
    """The token's nonce if it is ours, for this channel, and not expired; else None."""
    if not isinstance(token, str) or len(token) > 200:
        return None
    issued_s, _, rest = token.partition(".")
    nonce, _, sig = rest.partition(".")
    if not issued_s.isdigit() or not nonce or not sig:
        return None
    issued = int(issued_s)
    age = (time.time() if now is None else now) - issued
    if not -60 <= age <= TOKEN_TTL_S:
        return None
    return nonce if hmac.compare_digest(_sign(cfg, issued, nonce), sig) else None
