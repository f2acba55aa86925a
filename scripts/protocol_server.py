"""A server for the official Engine.IO and Socket.IO protocol test suites.

The suites (the ``test-suite/`` folders of socketio/engine.io-protocol and
socketio/socket.io-protocol) run mocha against a server on port 3000 configured as their
READMEs say: ping interval 300 ms, ping timeout 200 ms, any origin, an echo of what clients
send. This serves that configuration on the same classes the overlay server uses — the fast
broadcast path (``--path fast``) or stock python-socketio emission (``--path stock``) — so
both are checked by tests their authors did not write. scripts/protocol-suites.sh runs it.

    python scripts/protocol_server.py engine.io --path fast
    python scripts/protocol_server.py socket.io --path stock
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys

from aiohttp import web

from overlay.realtime.sioserver import make_sio_server

SUITE_OPTIONS = {"ping_interval": 0.3, "ping_timeout": 0.2, "max_http_buffer_size": 1_000_000,
                 "cors_allowed_origins": "*"}


def engineio_app(fast: bool) -> web.Application:
    """An Engine.IO server at /engine.io/ that sends back every message it gets."""
    engine_class = type(make_sio_server(fast=fast).eio)  # the engine.io class that path uses
    eio = engine_class(async_mode="aiohttp", **SUITE_OPTIONS)

    @eio.on("message")
    async def echo(sid: str, data: str | bytes) -> None:
        await eio.send(sid, data)

    app = web.Application()
    eio.attach(app, engineio_path="engine.io")
    return app


def socketio_app(fast: bool) -> web.Application:
    """The Socket.IO server of the suite's README: auth echoed on connect, messages echoed
    as ``message-back``, acks answered with their arguments, a ``/custom`` namespace."""
    sio = make_sio_server(fast=fast, **SUITE_OPTIONS)
    tasks: set[asyncio.Task[None]] = set()

    async def send_auth(sid: str, namespace: str, auth: object, handshake: asyncio.Event) -> None:
        await handshake.wait()  # after the CONNECT packet, as the suite expects
        await sio.emit("auth", auth if auth is not None else {}, to=sid, namespace=namespace)

    async def connect(sid: str, environ: dict, auth: object = None, namespace: str = "/") -> None:
        handshake = sio.manager.expect(sid, namespace)  # overlay/realtime/handshake.py
        tasks.add(task := asyncio.create_task(send_auth(sid, namespace, auth, handshake)))
        task.add_done_callback(tasks.discard)

    @sio.on("connect")
    async def on_connect(sid: str, environ: dict, auth: object = None) -> None:
        await connect(sid, environ, auth)

    @sio.on("connect", namespace="/custom")
    async def on_custom(sid: str, environ: dict, auth: object = None) -> None:
        await connect(sid, environ, auth, "/custom")

    @sio.on("message")
    async def message(sid: str, *args: object) -> None:
        await sio.emit("message-back", args, to=sid)  # a tuple: each argument on its own

    @sio.on("message-with-ack")
    async def message_with_ack(sid: str, *args: object) -> object:
        return args if len(args) != 1 else args[0]

    app = web.Application()
    sio.attach(app)
    return app


def report(suite: str, path: str) -> int:
    """Read mocha's JSON report on stdin; print the pass count and each failure."""
    result = json.load(sys.stdin)
    stats = result["stats"]
    print(f"{suite} suite, {path} path: {stats['passes']}/{stats['tests']} passed")
    for test in result["failures"]:
        message = (test.get("err", {}).get("message") or "").splitlines()
        print(f"  failed: {test['fullTitle']} -- {message[0][:160] if message else ''}")
    return 0 if not result["failures"] else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("suite", choices=["engine.io", "socket.io"])
    parser.add_argument("--path", choices=["fast", "stock"], default="fast")
    parser.add_argument("--port", type=int, default=3000)
    parser.add_argument("--report", action="store_true", help="summarise mocha's JSON report read on stdin")
    args = parser.parse_args()
    if args.report:
        sys.exit(report(args.suite, args.path))
    build = engineio_app if args.suite == "engine.io" else socketio_app
    web.run_app(build(args.path == "fast"), host="127.0.0.1", port=args.port, print=None)


if __name__ == "__main__":
    main()
