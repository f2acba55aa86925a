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

Closing a Socket.IO client is not enough for a websocket: engine.io sends its ``close``
packet and then waits for the client to end the connection, but the browser's client acts
on that packet only over long-polling, and ignores it on a websocket. One overlay page
kept aiohttp's shutdown waiting its full timeout twice over (10 s after "drained"). So
the drain ends every websocket still open itself: a client that left on the ``close``
packet is gone by then; the others see their connection close and reconnect by
themselves when the server is back.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from overlay.http.errors import error_response

# Within the 5 s grace: requests already accepted have ARRIVAL_S to show up, those in
# progress SETTLE_S to finish, those still queued for the store REFUSE_S to be refused.
ARRIVAL_QUIET_S = 0.2
ARRIVAL_S = 1.0
SETTLE_S = 2.0
REFUSE_S = 1.0
SOCKETIO_CLOSE_S = 0.5
# A websocket client has WEBSOCKET_LEAVE_S to leave on engine.io's close packet, then its
# connection is closed; one that does not read (its buffer never flushes) is aborted after
# WEBSOCKET_CLOSE_S more.
WEBSOCKET_LEAVE_S = 0.2
WEBSOCKET_CLOSE_S = 0.5

log = logging.getLogger(__name__)


class Drain:
    def __init__(self) -> None:
        self.draining = False
        self.started = 0   # requests that reached the app, ever
        self.active = 0    # requests in a handler now, websockets excluded
        self._idle = asyncio.Event()
        self.websockets: set[asyncio.BaseTransport] = set()  # connections that became websockets
        self._no_websockets = asyncio.Event()

    @web.middleware
    async def middleware(self, request: web.Request,
                         handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
        self.started += 1
        if request.path.startswith("/socket.io/"):
            # Long-lived: closed by the drain itself; a new one is refused while draining.
            if self.draining:
                return _shutting_down()
            transport = request.transport
            if transport is None or request.headers.get("Upgrade", "").lower() != "websocket":
                return await handler(request)
            self.websockets.add(transport)
            try:
                return await handler(request)
            finally:
                self.websockets.discard(transport)
                if not self.websockets:
                    self._no_websockets.set()
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

    async def close_websockets(self) -> None:
        """End the websockets still open, bounded: their clients had WEBSOCKET_LEAVE_S to
        leave on engine.io's close packet; the rest are closed, and aborted if even that
        does not end them within WEBSOCKET_CLOSE_S (a client that does not read)."""
        def gone() -> bool:
            return not self.websockets
        if await _wait(self._no_websockets, gone, WEBSOCKET_LEAVE_S):
            return
        for transport in list(self.websockets):
            transport.close()
        if await _wait(self._no_websockets, gone, WEBSOCKET_CLOSE_S):
            return
        log.warning("aborted %d websocket(s) that did not close", len(self.websockets))
        for transport in list(self.websockets):
            transport.abort()

    async def _until_idle(self, timeout: float) -> bool:
        return await _wait(self._idle, lambda: self.active == 0, timeout)


async def _wait(event: asyncio.Event, done: Callable[[], bool], timeout: float) -> bool:
    """Whether ``done()`` holds within ``timeout``; ``event`` is set whenever it may have become true."""
    if done():
        return True
    event.clear()
    try:
        await asyncio.wait_for(event.wait(), timeout)
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
    await drain_state.close_websockets()
    await drain_state.settle(stop_writes)
