"""The least of a Socket.IO 2 client (Engine.IO protocol 3) that Streamlabs' socket needs.

Streamlabs' socket server speaks Socket.IO 2, i.e. Engine.IO 3; python-socketio's client
5.x speaks only Engine.IO 4 and is refused by it. We need to receive events only, over one
websocket, so this module does it over aiohttp's websocket client:

- connect ``{url}/socket.io/?EIO=3&transport=websocket&<query>``;
- the server opens with ``0{"sid", "pingInterval", "pingTimeout", ...}`` then ``40``
  (connected to the default namespace);
- in Engine.IO 3 the CLIENT pings: we send ``2`` every ``pingInterval`` ms and expect
  ``3`` back within ``pingTimeout`` ms, else the connection is dead;
- ``42[name, data]`` is an event; ``41`` the server closing the namespace; ``1`` closing
  the transport.

Binary events, acks and namespaces other than "/" are not needed and not handled.
"""
from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import aiohttp

from overlay.http import strictjson


class Closed(Exception):
    """The server closed the connection, or stopped answering pings."""


def socket_url(url: str, query: dict[str, str]) -> str:
    return f"{url.rstrip('/')}/socket.io/?" + urlencode({**query, "EIO": "3", "transport": "websocket"})


def parse_event(packet: str) -> tuple[str, Any] | None:
    """``42["name", data]`` -> (name, data); anything else None."""
    if not packet.startswith("42"):
        return None
    try:
        args = strictjson.loads(packet[2:])  # amounts as Decimal, never float
    except ValueError:
        return None
    if not isinstance(args, list) or not args or not isinstance(args[0], str):
        return None
    return args[0], args[1] if len(args) > 1 else None


async def _pinger(ws: aiohttp.ClientWebSocketResponse, interval_s: float, timeout_s: float,
                  ponged: asyncio.Event) -> None:
    while True:
        await asyncio.sleep(interval_s)
        ponged.clear()
        await ws.send_str("2")
        try:
            await asyncio.wait_for(ponged.wait(), timeout_s)
        except TimeoutError:
            await ws.close()
            return


async def _handshake(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    msg = await ws.receive(timeout=30)
    if msg.type != aiohttp.WSMsgType.TEXT or not msg.data.startswith("0"):
        raise Closed("no Engine.IO 3 open packet")
    try:
        opened = json.loads(msg.data[1:])
    except ValueError:
        raise Closed("unreadable Engine.IO open packet") from None
    if not isinstance(opened, dict):
        raise Closed("unreadable Engine.IO open packet")
    return opened


async def events(http: aiohttp.ClientSession, url: str, query: dict[str, str]) -> AsyncIterator[tuple[str, Any]]:
    """Yield (name, data) for each event until the connection ends (then ``Closed``); first
    ``("connect", None)`` once the server accepted the connection."""
    async with http.ws_connect(socket_url(url, query), heartbeat=None, autoping=True) as ws:
        opened = await _handshake(ws)
        ponged = asyncio.Event()
        pinger = asyncio.create_task(_pinger(ws, opened.get("pingInterval", 25000) / 1000,
                                             opened.get("pingTimeout", 60000) / 1000, ponged))
        try:
            async for msg in ws:
                if msg.type != aiohttp.WSMsgType.TEXT:
                    break
                if msg.data == "3":
                    ponged.set()
                elif msg.data in ("1", "41"):
                    break
                elif msg.data == "40":
                    yield "connect", None  # Socket.IO's CONNECT: the server took the token
                elif (event := parse_event(msg.data)) is not None:
                    yield event
        finally:
            pinger.cancel()
    raise Closed("the connection ended")
