"""What stands between a public form and the totals: a signed form token (the per-client
rate limit is ``overlay.http.ratelimit``).

The form token is ``issued_at.nonce.signature``: an HMAC over the channel, the time,
a random nonce and the address of the client it was given to, keyed by a hash of the
channel's own secrets, so every worker process started from the same config accepts
the tokens of every other, a token made for one channel is worthless on another, and
a token fetched once cannot be replayed from elsewhere. The nonce becomes the
pledge's ``external_id``: a double-tapped submit button records one pledge, not two,
in whichever process each request lands.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from urllib.parse import urlsplit

from aiohttp import web

from overlay.http import clientaddr
from overlay import keys
from overlay.config import ChannelSettings
from overlay.secret import secret_equal

TOKEN_TTL_S = 2 * 3600


def _key(cfg: ChannelSettings) -> bytes:
    material = "\0".join(["overlay donate form v1", cfg.id, cfg.overlay_key, *cfg.moderator_tokens])
    return hashlib.sha256(material.encode("utf-8")).digest()


def client_address(request: web.Request) -> str:
    """The address a form token is bound to and the rate limit counts by (through the
    proxies of ``server.trusted_proxies``)."""
    return clientaddr.client_address(request, request.app[keys.CONFIG].server.trusted_proxies)


def origin_allowed(request: web.Request) -> bool:
    """A browser names the page a form was posted from; when it does, it must be ours
    (this host, or ``server.public_url`` behind a proxy). No Origin: not a browser, and
    the address-bound token is what holds."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    given = urlsplit(origin)
    public = urlsplit(request.app[keys.CONFIG].server.public_url)
    if not given.netloc:  # "null": sandboxed frames, data: URLs, privacy modes
        return False
    return given.netloc == request.host or (given.scheme, given.netloc) == (public.scheme, public.netloc)


def _sign(cfg: ChannelSettings, issued: int, nonce: str, address: str) -> str:
    message = "\0".join([cfg.id, str(issued), nonce, address]).encode("utf-8", "replace")
    mac = hmac.new(_key(cfg), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def issue_token(cfg: ChannelSettings, address: str, now: float | None = None) -> str:
    issued, nonce = int(time.time() if now is None else now), secrets.token_urlsafe(12)
    return f"{issued}.{nonce}.{_sign(cfg, issued, nonce, address)}"


def check_token(cfg: ChannelSettings, token: object, address: str, now: float | None = None) -> str | None:
    """The token's nonce if it is ours, for this channel and client address, and not expired; else None."""
    if not isinstance(token, str) or len(token) > 200:
        return None
    issued_s, _, rest = token.partition(".")
    nonce, _, sig = rest.partition(".")
    if not issued_s.isascii() or not issued_s.isdigit() or not nonce or not sig:
        return None
    issued = int(issued_s)
    age = (time.time() if now is None else now) - issued
    if not -60 <= age <= TOKEN_TTL_S:
        return None
    good = _sign(cfg, issued, nonce, address).encode()
    return nonce if secret_equal(sig, good) else None
