"""The web process's side of live video: status from the live process, WHIP/WHEP forwarded to it.

The live process (process.py) owns every peer connection; the small signalling
requests (POST offer, PATCH trickle, DELETE, OPTIONS) are forwarded to it over its
unix socket, and the media goes to it directly: the ICE candidates in its answers
are its own. Each web process follows the live process's status feed, so with
``--workers N`` every worker knows the status of the one live process and pushes it
to its own dashboards. No aiortc here.
"""
from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

import aiohttp
from aiohttp import web
from multidict import CIMultiDict

from overlay.live.listeners import Listeners
from overlay.http.errors import error_response

log = logging.getLogger(__name__)

LIVE_PATHS = ("/whip/{ch}", "/whip/{ch}/{sid}", "/whep/{ch}", "/whep/{ch}/{sid}")
MAX_SDP_BYTES = 64 * 1024  # as the live process: OBS offers are ~5 KB
START_WAIT_S = 15.0  # a request arriving while the live process (re)starts waits this long
FORWARD_TIMEOUT_S = 30.0  # an answer gathers ICE candidates on every interface first
RECONNECT_S = (0.1, 1.0)
REQUEST_HEADERS = ("Authorization", "Content-Type", "If-Match", "Origin",
                   "Access-Control-Request-Method", "Access-Control-Request-Headers")
HOP_BY_HOP = {"content-length", "transfer-encoding", "connection", "keep-alive", "date", "server"}
CORS = {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "Retry-After"}
OFFLINE = {"live": False, "viewers": 0, "bitrate_kbps": None, "since": None}


class LiveLink:
    def __init__(self, socket_path: str | None, channels: Iterable[str]) -> None:
        """channels: those the live process serves; socket_path None when there are none."""
        self.socket_path = socket_path
        self.statuses: dict[str, dict[str, Any]] = {ch: dict(OFFLINE) for ch in channels}
        self.failure: str | None = None  # the live process runs, but live video cannot
        self._listeners = Listeners("live status")
        self._connected: asyncio.Event | None = None
        self._session: aiohttp.ClientSession | None = None
        self._follower: asyncio.Task[None] | None = None

    # -- read by the pages and the dashboard ---------------------------------
    def status(self, ch: str) -> dict[str, Any]:
        return dict(self.statuses.get(ch, OFFLINE))

    def on_change(self, callback: Callable[[str, dict[str, Any]], Any]) -> None:
        """callback(ch, status + error) as the live process reports changes; may be async."""
        self._listeners.add(callback)

    # -- lifecycle ------------------------------------------------------------
    async def start(self) -> None:
        self._connected = asyncio.Event()
        if self.socket_path is None or not self.statuses:
            return
        self._session = aiohttp.ClientSession(connector=aiohttp.UnixConnector(path=self.socket_path))
        self._follower = asyncio.create_task(self._follow())

    async def stop(self) -> None:
        if self._follower is not None:
            self._follower.cancel()
            await asyncio.gather(self._follower, return_exceptions=True)
        if self._session is not None:
            await self._session.close()

    async def _follow(self) -> None:
        delay = RECONNECT_S[0]
        while True:
            try:
                async with self._session.get("http://live/_live/events",  # type: ignore[union-attr]
                                             timeout=aiohttp.ClientTimeout(total=None)) as response:
                    async for line in response.content:
                        self._read(json.loads(line))
                        delay = RECONNECT_S[0]
            except (aiohttp.ClientError, OSError, ValueError):
                pass  # starting, restarting, or gone: try again shortly
            self._lost()
            await asyncio.sleep(delay)
            delay = min(delay * 2, RECONNECT_S[1])

    def _read(self, message: dict[str, Any]) -> None:
        if "channel" in message:
            self._set(message["channel"], message["status"])
            return
        failure = message["reason"] if not message["available"] else None
        told, self.failure = failure != self.failure, failure
        for ch in self.statuses:
            self._set(ch, message["channels"].get(ch, OFFLINE), force=told)
        assert self._connected is not None
        self._connected.set()

    def _lost(self) -> None:
        assert self._connected is not None
        self._connected.clear()
        for ch in self.statuses:
            self._set(ch, OFFLINE)

    def _set(self, ch: str, status: dict[str, Any], force: bool = False) -> None:
        if ch not in self.statuses or (self.statuses[ch] == status and not force):
            return
        self.statuses[ch] = dict(status)
        self._listeners.notify(ch, {**self.status(ch), "error": self.failure})

    # -- forwarding -------------------------------------------------------------
    async def forward(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["ch"] not in self.statuses:
            return _error(404, "unknown_channel", f"no live channel {request.match_info['ch']!r} on this server")
        if not await self._ready():
            return _error(503, "live_unavailable", "the live video process is starting or restarting",
                          {"Retry-After": "2"})
        if self.failure is not None:
            return _error(503, "live_unavailable", self.failure)
        body = await _read_capped(request)
        if body is None:
            return _error(413, "body_too_large", f"at most {MAX_SDP_BYTES} bytes")
        headers = {k: request.headers[k] for k in REQUEST_HEADERS if k in request.headers}
        try:
            async with self._session.request(  # type: ignore[union-attr]
                    request.method, f"http://live{request.path_qs}", data=body, headers=headers,
                    timeout=aiohttp.ClientTimeout(total=FORWARD_TIMEOUT_S)) as answer:
                payload = await answer.read()
                kept = [(k, v) for k, v in answer.headers.items() if k.lower() not in HOP_BY_HOP]
        except (aiohttp.ClientError, OSError, asyncio.TimeoutError) as exc:
            log.warning("live process did not answer %s %s: %r", request.method, request.path, exc)
            return _error(503, "live_unavailable", "the live video process did not answer", {"Retry-After": "2"})
        return web.Response(status=answer.status, body=payload, headers=CIMultiDict(kept))

    async def metrics(self) -> str:
        """The live process's Prometheus lines, or nothing while it is not there."""
        if self._session is None or self._connected is None or not self._connected.is_set():
            return ""
        try:
            async with self._session.get("http://live/_live/metrics",
                                         timeout=aiohttp.ClientTimeout(total=2)) as answer:
                return await answer.text() if answer.status == 200 else ""
        except (aiohttp.ClientError, OSError, asyncio.TimeoutError):
            return ""

    async def _ready(self) -> bool:
        assert self._connected is not None
        try:
            await asyncio.wait_for(self._connected.wait(), START_WAIT_S)
        except TimeoutError:
            return False
        return True


async def _read_capped(request: web.Request) -> bytes | None:
    if (request.content_length or 0) > MAX_SDP_BYTES:
        return None
    body = bytearray()
    async for chunk in request.content.iter_chunked(16384):
        body += chunk
        if len(body) > MAX_SDP_BYTES:  # a chunked body has no Content-Length to check
            return None
    return bytes(body)


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return error_response(status, code, message, {**CORS, **(headers or {})})


LIVE = web.AppKey("live", LiveLink)


def setup_live_link(app: web.Application, link: LiveLink) -> None:
    app[LIVE] = link
    for path in LIVE_PATHS:
        app.router.add_route("*", path, link.forward)

    async def follow(_app: web.Application):  # noqa: ANN202
        await link.start()
        yield
        await link.stop()

    app.cleanup_ctx.append(follow)
