"""Failed credentials, counted per client address: token guessing gets slow, moderators do not.

Only failures are recorded, and only from the address that made them (behind a
trusted reverse proxy, the address it forwards; ``overlay.web.clientaddr``), so one
troll cannot lock out the moderators. An address over the limit is refused even
with the right token until its oldest failure leaves the window: otherwise the
one guess that succeeds would still be answered.
"""
from __future__ import annotations

from aiohttp import web

from overlay import keys
from overlay.web.clientaddr import client_address
from overlay.web.errors import ApiError, Handler
from overlay.web.ratelimit import RateLimiter

MAX_FAILURES = 10           # failed attempts per client address ...
FAILURE_WINDOW_S = 300      # ... within this many seconds, then refused until the window passes
FAILURES: web.AppKey[RateLimiter] = web.AppKey("auth_failures", RateLimiter)
# Where a 401 means a wrong credential. The dashboard's login form counts its own (it answers in HTML).
GUARDED = ("/api/", "/whip/", "/metrics")


def _key(request: web.Request) -> tuple[str, str]:
    return "auth", client_address(request, request.app[keys.CONFIG].server.trusted_proxies)


def retry_after(request: web.Request) -> int | None:
    """Seconds this client must wait before trying a credential again, or None."""
    return request.app[FAILURES].wait(_key(request), MAX_FAILURES)


def record_failure(request: web.Request) -> None:
    request.app[FAILURES].record(_key(request))


def _presented(request: web.Request) -> bool:
    # A request with no credential at all guesses nothing (a public read, an expired page).
    return "Authorization" in request.headers or "key" in request.query


@web.middleware
async def throttle_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not (request.path.startswith(GUARDED) and _presented(request)):
        return await handler(request)
    wait = retry_after(request)
    if wait is not None:
        raise ApiError(429, "too_many_failures", "too many failed attempts from this address; retry later",
                       {"Retry-After": str(wait)})
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
