"""Who may do what: overlay key (read), moderator token (write), dashboard sessions.

A dashboard session is a signed cookie, keyed by the moderator token that opened it:
removing a token from the config ends its sessions. Writes made with the cookie
also need the CSRF token the dashboard page carries (a cross-site form cannot
send a header), and the cookie is SameSite=Strict besides.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

from aiohttp import web

from overlay.config import ChannelSettings
from overlay.errors import ApiError

SESSION_TTL_S = 12 * 3600
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def secret_equal(given: object, expected: str) -> bool:
    # surrogatepass: a lone surrogate sent by a client ("\ud800") must compare unequal, not raise.
    return isinstance(given, str) and hmac.compare_digest(given.encode("utf-8", "surrogatepass"),
                                                          expected.encode("utf-8", "surrogatepass"))


def bearer(request: web.Request) -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def matching_token(cfg: ChannelSettings, given: object) -> str | None:
    # Compare against every token so the time taken does not tell which one matched.
    found = None
    for token in cfg.moderator_tokens:
        if secret_equal(given, token):
            found = token
    return found


def cookie_name(cfg: ChannelSettings) -> str:
    return f"overlay_session_{cfg.id}"


def _fingerprint(token: str) -> str:
    return hashlib.sha256(b"fp:" + token.encode()).hexdigest()[:16]


def _sign(token: str, payload: str) -> str:
    mac = hmac.new(hashlib.sha256(b"session:" + token.encode()).digest(), payload.encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).decode().rstrip("=")


def new_session(cfg: ChannelSettings, token: str, now: float | None = None) -> str:
    expires = int((now or time.time()) + SESSION_TTL_S)
    payload = f"{cfg.id}.{expires}.{_fingerprint(token)}.{secrets.token_urlsafe(12)}"
    return f"{payload}.{_sign(token, payload)}"


def session_token(cfg: ChannelSettings, cookie: str | None, now: float | None = None) -> str | None:
    """The moderator token behind a valid, unexpired session cookie, else None."""
    if not cookie or len(cookie) > 512:
        return None
    payload, _, sig = cookie.rpartition(".")
    parts = payload.split(".")
    if len(parts) != 4 or parts[0] != cfg.id or not parts[1].isdigit() or int(parts[1]) < (now or time.time()):
        return None
    for token in cfg.moderator_tokens:
        if hmac.compare_digest(parts[2], _fingerprint(token)) and hmac.compare_digest(sig, _sign(token, payload)):
            return token
    return None


def csrf_token(cookie: str) -> str:
    return hashlib.sha256(b"csrf:" + cookie.encode()).hexdigest()[:32]


def moderator_session(cfg: ChannelSettings, request: web.Request) -> str | None:
    cookie = request.cookies.get(cookie_name(cfg))
    return cookie if session_token(cfg, cookie) else None


def require_moderator(cfg: ChannelSettings, request: web.Request) -> None:
    """Bearer moderator token, or a dashboard session (+ CSRF header for writes)."""
    if matching_token(cfg, bearer(request)):
        return
    cookie = moderator_session(cfg, request)
    if cookie is None:
        raise ApiError(401, "unauthorized", "a moderator token is required",
                       {"WWW-Authenticate": 'Bearer realm="overlay"'})
    if request.method in UNSAFE and not secret_equal(request.headers.get("X-CSRF-Token"), csrf_token(cookie)):
        raise ApiError(403, "csrf_failed", "missing or wrong X-CSRF-Token header")


def is_reader(cfg: ChannelSettings, request: web.Request) -> bool:
    """Overlay key (query ?key= or bearer) reads; so does any moderator."""
    key = request.query.get("key") or bearer(request)
    return secret_equal(key, cfg.overlay_key) or matching_token(cfg, key) is not None \
        or moderator_session(cfg, request) is not None
