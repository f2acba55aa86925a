"""The live process: WHIP/WHEP and every peer connection, away from the web processes.

A viewer storm costs this process's core, not the one that answers donations.
Started by supervisor.py as ``python -m overlay.live.process``: its settings
come as one JSON line on stdin (stream keys stay out of argv and the environment),
it serves HTTP on a unix socket, and it exits on SIGTERM or when stdin closes (the
server that started it is gone). The only place aiortc is imported at run time.

``GET /_live/events`` is the status feed the web processes follow: one JSON line
``{"available", "reason", "channels": {ch: status}}``, then ``{"channel", "status"}``
on every change. If aiortc is missing or fails the self-test, the process stays up,
says so on the feed and logs it once; the web processes answer 503 live_unavailable.
"""
from __future__ import annotations

import asyncio
import json
import logging
import signal
import sys
from typing import Any

from aiohttp import web

from overlay.settings.live import LiveSettings
from overlay.http.errors import error_response

log = logging.getLogger("overlay.live.whip")
FEED_BACKLOG = 1000  # status lines a slow subscriber may owe before it is dropped
REASON = web.AppKey("reason", str)


class StatusFeed:
    def __init__(self, head: dict[str, Any]) -> None:
        self.head = head  # what a new subscriber reads first; channels are kept current
        self._queues: set[asyncio.Queue[dict[str, Any] | None]] = set()

    def publish(self, channel: str, status: dict[str, Any]) -> None:
        self.head["channels"][channel] = status
        for queue in list(self._queues):
            if queue.qsize() >= FEED_BACKLOG:
                self._queues.discard(queue)
                queue.put_nowait(None)  # ends that subscription; it reconnects for a fresh head
            else:
                queue.put_nowait({"channel": channel, "status": status})

    async def handle(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
        await response.prepare(request)
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self._queues.add(queue)
        try:
            message: dict[str, Any] | None = self.head
            while message is not None:
                await response.write(json.dumps(message).encode() + b"\n")
                message = await queue.get()
        except ConnectionError:
            pass
        finally:
            self._queues.discard(queue)
        return response

    def close(self) -> None:
        for queue in self._queues:
            queue.put_nowait(None)


async def start_live(app: web.Application, settings: dict[str, Any], feed: StatusFeed) -> None:
    """Import aiortc, run the self-test, add the WHIP/WHEP routes; raises if live cannot run."""
    from overlay.live.whip import setup_live  # aiortc is imported here, and nowhere in the web process
    from overlay.live.selftest import run_self_test

    await run_self_test()
    channels = {ch: LiveSettings(**s) for ch, s in settings["channels"].items()}
    hub = setup_live(app, channels, public_url=settings["public_url"], ice_servers=settings["ice_servers"])
    for ch in channels:
        feed.head["channels"][ch] = hub.status(ch)
    hub.on_change(feed.publish)
    log.info("live video ready for %s (aiortc self-test passed)", ", ".join(channels))


def describe_failure(exc: BaseException) -> str:
    if isinstance(exc, ImportError):
        return f"aiortc/av cannot be imported ({exc}); install them with: pip install 'overlay[live]'"
    return f"the aiortc self-test failed: {exc}"


async def _unavailable(request: web.Request) -> web.Response:
    reason = request.app[REASON]
    return error_response(503, "live_unavailable", reason, {"Access-Control-Allow-Origin": "*"})


async def live_metrics(request: web.Request) -> web.Response:
    """This process's live metrics; the web processes add them to their /metrics."""
    from prometheus_client import generate_latest
    lines = generate_latest().decode().splitlines()
    ours = [line for line in lines if line.split(" ", 3)[2 if line.startswith("#") else 0]
            .startswith("overlay_live_")]
    return web.Response(text="\n".join(ours) + "\n" if ours else "")


async def serve(settings: dict[str, Any], stop: asyncio.Event) -> None:
    app = web.Application()
    feed = StatusFeed({"available": True, "reason": None, "channels": {}})
    try:
        await start_live(app, settings, feed)
    except Exception as exc:  # noqa: BLE001 - whatever breaks, the donation server must not
        reason = " ".join(describe_failure(exc).split())  # one log line, whatever the message
        log.error("live video disabled: %s", reason)
        feed.head.update(available=False, reason=reason)
        app[REASON] = reason
        for role in ("whip", "whep"):
            app.router.add_route("*", f"/{role}/{{tail:.*}}", _unavailable)
    app.router.add_get("/_live/events", feed.handle)
    app.router.add_get("/_live/metrics", live_metrics)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    await web.UnixSite(runner, settings["socket"]).start()
    try:
        await stop.wait()
    finally:
        feed.close()
        await runner.cleanup()


async def main() -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    settings = json.loads(await reader.readline())
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)

    async def stop_at_eof() -> None:
        await reader.read()  # returns when the parent closes our stdin or dies
        stop.set()

    watcher = asyncio.create_task(stop_at_eof())
    try:
        await serve(settings, stop)
    finally:
        watcher.cancel()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("aioice").setLevel(logging.WARNING)  # a line per candidate pair and viewer
    asyncio.run(main())
