"""Graceful stop: on SIGTERM every connection the server accepted gets an answer, within 5 s.

aiohttp's own shutdown (``web.run_app``) stops listening, closes every connection that
has no request in progress yet, waits up to ``shutdown_timeout`` for the rest, then
cancels them. Under a burst that loses answers: a connection accepted a moment before
SIGTERM whose request bytes the loop has not read yet counts as idle and is closed
unanswered, and requests still queued behind the store are cancelled at the timeout,
while open Socket.IO websockets hold the full timeout. So before handing over to
aiohttp's cleanup we stop listening, answer every new request 503 ``shutting_down``,
close the Socket.IO clients, and wait — bounded — until requests stop arriving on the
connections already accepted and those in progress are done; writes still queued for
the store when time runs short are answered 503 without being stored.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from overlay.web.errors import error_response

# Within the 5 s grace: requests already accepted have ARRIVAL_S to show up, those in
# progress SETTLE_S to finish, those still queued for the store REFUSE_S to be refused.
ARRIVAL_QUIET_S = 0.2
ARRIVAL_S = 1.0
SETTLE_S = 2.0
REFUSE_S = 1.0
SOCKETIO_CLOSE_S = 0.5

log = logging.getLogger(__name__)


class Drain:
    def __init__(self) -> None:
        self.draining = False
        self.started = 0   # requests that reached the app, ever
        self.active = 0    # requests in a handler now, websockets excluded
        self._idle = asyncio.Event()

    @web.middleware
    async def middleware(self, request: web.Request,
                         handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
        self.started += 1
        if request.path.startswith("/socket.io/"):
            # Long-lived: closed by the drain itself; a new one is refused while draining.
            if self.draining:
                return _shutting_down()
            return await handler(request)
        if self.draining:
            return _shutting_down()
        self.active += 1
        self._idle.clear()
        try:
            return await handler(request)
        finally:
            self.active -= 1
            if self.active == 0:
                self._idle.set()

    async def settle(self, stop_writes: Callable[[], None]) -> None:
        """Wait until no request has arrived for ARRIVAL_QUIET_S (at most ARRIVAL_S), then
        until none is in progress (at most SETTLE_S); then writes still queued are refused
        503 (nothing of theirs is stored) and the last ones have REFUSE_S to answer."""
        deadline = time.monotonic() + ARRIVAL_S
        seen = -1
        while seen != self.started and time.monotonic() < deadline:
            seen = self.started
            await asyncio.sleep(ARRIVAL_QUIET_S)
        if not await self._until_idle(SETTLE_S):
            stop_writes()
            await self._until_idle(REFUSE_S)

    async def _until_idle(self, timeout: float) -> bool:
        if self.active == 0:
            return True
        self._idle.clear()
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            return False
        return True


def _shutting_down() -> web.Response:
    response = error_response(503, "shutting_down", "the server is restarting; retry shortly", {"Retry-After": "2"})
    response.force_close()
    return response


async def drain(sites: list[web.BaseSite], drain_state: Drain, close_socketio: Callable[[], Awaitable[None]],
                stop_writes: Callable[[], None]) -> None:
    """Stop listening, refuse new work, close Socket.IO clients, let accepted work finish."""
    drain_state.draining = True
    for site in sites:
        await site.stop()
    closing = asyncio.ensure_future(close_socketio())
    done, _ = await asyncio.wait([closing], timeout=SOCKETIO_CLOSE_S)
    if not done:
        closing.cancel()
    elif closing.exception() is not None:  # retrieved, so never an unhandled task error
        log.warning("closing Socket.IO clients failed: %r", closing.exception())
    await drain_state.settle(stop_writes)
