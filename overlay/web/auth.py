"""Who may do what: overlay key (read), moderator token (write), dashboard sessions.

A dashboard session is a signed cookie, keyed by the moderator token that opened it:
removing a token from the config ends its sessions. Logging out records the
session's id in the store until the cookie would have expired anyway, so a copied
cookie stops working in every worker and after a restart. Writes made with the
cookie also need the CSRF token the dashboard page carries (a cross-site form
cannot send a header), and the cookie is SameSite=Strict besides.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import time
from dataclasses import dataclass
from typing import Protocol

from aiohttp import web

from overlay import keys
from overlay.channel_records import token_matches
from overlay.config import ChannelSettings
from overlay.http.cookies import COOKIE_PREFIX
from overlay.secret import secret_equal
from overlay.http.errors import ApiError, Handler
from overlay.errors import StoreUnavailable

log = logging.getLogger(__name__)

SESSION_TTL_S = 12 * 3600
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
# Paths where a session cookie means something; static files and overlays never look.
SESSION_PATHS = ("/api/", "/dashboard/", "/socket.io/", "/admin")
LIVE_SESSIONS: web.RequestKey[frozenset[str]] = web.RequestKey("live_sessions", frozenset)


class TokenHolder(Protocol):
    """Whoever sessions are opened for: a channel (its moderator tokens) or the admins."""
    @property
    def id(self) -> str: ...
    @property
    def moderator_tokens(self) -> list[str]: ...


@dataclass(frozen=True)
class Admins:
    """The admin page's sessions: keyed by the admin token that opened them, as a channel's by its
    moderator token. The id is no channel's (ids are ``[a-z0-9-]``), nor is the cookie's name."""
    moderator_tokens: list[str]
    id: str = "_admin"


def admins(request: web.Request) -> Admins:
    return Admins(list(request.app[keys.CONFIG].server.admin_tokens))


def bearer(request: web.Request) -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def matching_token(cfg: TokenHolder, given: object) -> str | None:
    """The stored entry (the token, or its hash for a channel of the admin API) that ``given`` matches."""
    # Compare against every token so the time taken does not tell which one matched.
    found = None
    for token in cfg.moderator_tokens:
        if token_matches(given, token):
            found = token
    return found


def cookie_name(cfg: TokenHolder) -> str:
    return f"{COOKIE_PREFIX}{cfg.id}"


def _fingerprint(token: str) -> str:
    return hashlib.sha256(b"fp:" + token.encode()).hexdigest()[:16]


def _sign(token: str, payload: str) -> str:
    mac = hmac.new(hashlib.sha256(b"session:" + token.encode()).digest(), payload.encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).decode().rstrip("=")


def new_session(cfg: TokenHolder, token: str, now: float | None = None) -> str:
    expires = int((now or time.time()) + SESSION_TTL_S)
    payload = f"{cfg.id}.{expires}.{_fingerprint(token)}.{secrets.token_urlsafe(12)}"
    return f"{payload}.{_sign(token, payload)}"


def session_token(cfg: TokenHolder, cookie: str | None, now: float | None = None) -> str | None:
    """The moderator token behind a valid, unexpired session cookie, else None."""
    if not cookie or len(cookie) > 512 or not cookie.isascii():
        return None
    payload, _, sig = cookie.rpartition(".")
    parts = payload.split(".")
    if len(parts) != 4 or parts[0] != cfg.id or not parts[1].isdigit() or int(parts[1]) < (now or time.time()):
        return None
    for token in cfg.moderator_tokens:
        if secret_equal(parts[2], _fingerprint(token)) and secret_equal(sig, _sign(token, payload)):
            return token
    return None


def csrf_token(cookie: str) -> str:
    return hashlib.sha256(b"csrf:" + cookie.encode()).hexdigest()[:32]


def session_id(cookie: str) -> tuple[str, int]:
    """(id, expiry in epoch seconds) of a cookie that ``session_token`` accepted."""
    parts = cookie.rpartition(".")[0].split(".")
    return parts[3], int(parts[1])


def moderator_session(cfg: TokenHolder, request: web.Request) -> str | None:
    """The request's session cookie for this channel if it is valid and not logged out."""
    cookie = request.cookies.get(cookie_name(cfg))
    return cookie if cookie in request.get(LIVE_SESSIONS, ()) and session_token(cfg, cookie) else None


async def revoke_session(request: web.Request, cfg: TokenHolder, cookie: str) -> None:
    sid, expires = session_id(cookie)
    await request.app[keys.DIRECTORY].revoke_session(cfg.id, sid, expires * 1000)


async def _live_sessions(request: web.Request) -> frozenset[str]:
    registry, directory, live = request.app[keys.REGISTRY], request.app[keys.DIRECTORY], set()
    for name, cookie in request.cookies.items():
        holder = name.removeprefix(COOKIE_PREFIX) if name.startswith(COOKIE_PREFIX) else None
        cfg: TokenHolder | None = admins(request) if holder == Admins.id else registry.settings(holder)
        if cfg is None or session_token(cfg, cookie) is None:
            continue
        try:
            if not await directory.session_revoked(cfg.id, session_id(cookie)[0]):
                live.add(cookie)
        except StoreUnavailable as exc:  # cannot tell whether it was logged out: not a session
            log.warning("dashboard session not checked: %s", exc)
    return frozenset(live)


@web.middleware
async def session_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Check the store for logged-out sessions once per request, before any handler.

    The checks above stay synchronous (the Socket.IO connect hook reads this request
    too, through its environ), and a request without a session cookie costs nothing.
    """
    if request.path.startswith(SESSION_PATHS) and any(n.startswith(COOKIE_PREFIX) for n in request.cookies):
        request[LIVE_SESSIONS] = await _live_sessions(request)
    return await handler(request)


def require_moderator(cfg: TokenHolder, request: web.Request, who: str = "moderator", realm: str = "overlay") -> None:
    """Bearer moderator token, or a dashboard session (+ CSRF header for writes); the same for admins."""
    if matching_token(cfg, bearer(request)):
        return
    cookie = moderator_session(cfg, request)
    if cookie is None:
        raise ApiError(401, "unauthorized", f"a {who} token is required",
                       {"WWW-Authenticate": f'Bearer realm="{realm}"'})
    if request.method in UNSAFE and not secret_equal(request.headers.get("X-CSRF-Token"), csrf_token(cookie)):
        raise ApiError(403, "csrf_failed", "missing or wrong X-CSRF-Token header")


def is_reader(cfg: ChannelSettings, request: web.Request) -> bool:
    """Overlay key (query ?key= or bearer) reads; so does any moderator, but never with
    the token in a URL: URLs end up in logs and browser history."""
    token = bearer(request)
    return secret_equal(request.query.get("key"), cfg.overlay_key) or secret_equal(token, cfg.overlay_key) \
        or matching_token(cfg, token) is not None or moderator_session(cfg, request) is not None
