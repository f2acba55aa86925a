"""Failed credentials, counted per client address: guessing gets slow, moderators do not.

Every credential counts towards the same limit: a moderator token, an overlay key (in
an API call, an overlay or gallery URL, or a Socket.IO connection to either namespace),
the dashboard login, a stream key (WHIP), the metrics token, a webhook's signature or
secret. Only failures are recorded, and only from the address that made them (behind a
trusted reverse proxy, the address it forwards; for IPv6 its /64:
``overlay.http.clientaddr``), so one troll cannot lock out the moderators. An attempt
that presents no credential at all guesses nothing and is not counted. An address over
the limit is refused even with the right credential until its oldest failure leaves the
window: otherwise the one guess that succeeds would still be answered.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from overlay import keys
from overlay.http.cookies import COOKIE_PREFIX
from overlay.http.clientaddr import client_address, limit_key
from overlay.http.errors import ApiError, Handler
from overlay.http.ratelimit import RateLimiter

MAX_FAILURES = 10           # failed attempts per client address ...
FAILURE_WINDOW_S = 300      # ... within this many seconds, then refused until the window passes
FAILURES: web.AppKey[RateLimiter] = web.AppKey("auth_failures", RateLimiter)
# Where a 401 means a wrong credential. The others count their own failures: the dashboard's
# login form (it answers in HTML), overlay and gallery pages (a 403 page), webhooks (only a
# bad signature or secret), Socket.IO (a connect_error).
GUARDED = ("/api/", "/whip/", "/metrics", "/overlay/", "/widgets/")
RATE_LIMITED = "rate limited: too many failed attempts from this address; retry in {wait} s"


def _key(request: web.Request) -> tuple[str, str]:
    return "auth", limit_key(client_address(request, request.app[keys.CONFIG].server.trusted_proxies))


def retry_after(request: web.Request) -> int | None:
    """Seconds this client must wait before trying a credential again, or None."""
    return request.app[FAILURES].wait(_key(request), MAX_FAILURES)


def record_failure(request: web.Request) -> None:
    request.app[FAILURES].record(_key(request))


def too_many(wait: int) -> ApiError:
    return ApiError(429, "too_many_failures", "too many failed attempts from this address; retry later",
                    {"Retry-After": str(wait)})


def check_not_limited(request: web.Request) -> None:
    """Raise the 429 if this client is over the limit."""
    wait = retry_after(request)
    if wait is not None:
        raise too_many(wait)


def _presented(request: web.Request) -> bool:
    # A request with no credential at all guesses nothing (a public read, an expired page).
    return "Authorization" in request.headers or "key" in request.query


# -- Socket.IO: the request is the one the client connected with (engine.io's environ) --------

def socketio_refusal(environ: Mapping[str, Any]) -> str | None:
    """The connect_error message for a client over the limit, else None."""
    request = environ.get("aiohttp.request")
    wait = retry_after(request) if isinstance(request, web.Request) else None
    return None if wait is None else RATE_LIMITED.format(wait=wait)


def socketio_failure(environ: Mapping[str, Any], auth: Mapping[str, Any]) -> None:
    """Count a refused connection that presented a credential: a key, a token or a session cookie."""
    request = environ.get("aiohttp.request")
    if not isinstance(request, web.Request):
        return
    # The raw header: a hostile cookie may not even parse.
    if "key" in auth or "token" in auth or COOKIE_PREFIX in request.headers.get("Cookie", ""):
        record_failure(request)


@web.middleware
async def throttle_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not (request.path.startswith(GUARDED) and _presented(request)):
        return await handler(request)
    check_not_limited(request)
    try:
        response = await handler(request)
    except ApiError as exc:
        if exc.status == 401:
            record_failure(request)
        raise
    if response.status == 401:  # WHIP answers its 401 itself
        record_failure(request)
    return response


def setup_throttle(app: web.Application) -> None:
    app[FAILURES] = RateLimiter(window_s=FAILURE_WINDOW_S)
