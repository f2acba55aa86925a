"""One short log line, then the door, for a Socket.IO client that sends unreadable packets.

python-socketio decodes every incoming message in a private method of its server.
A packet it cannot read ("4{", "4\\x00", an unknown type) raises there; engine.io logs
the traceback at ERROR and keeps the connection open, so 2,000 two-byte packets made
3.6 MB of log in 1.8 s. python-socketio offers no hook for a packet it cannot decode
(a ``serializer`` subclass could refuse it, but knows neither the connection nor how to
close it), so this wraps that one method (through overlay/adapters/socketio.py). Checked at
start-up: if python-socketio no longer routes messages through it, the stock behaviour stays
and a warning says so.

One layer down, engine.io decodes a websocket message outside any error handling: an
unknown packet type, or "4" followed by JSON nested 3,000 deep (a RecursionError), ended
the request with a 58-line traceback from aiohttp, and left the engine.io session open
until its ping timeout. ``GuardedWebSocket`` reads each message as engine.io will before
handing it over, and ends the connection on one it cannot read, with one short line.

``GuardedEngineIOServer.send_packet`` gives each recipient of a binary packet a packet of
its own: python-socketio sends one packet object to all the recipients of a broadcast, and
engine.io caches a packet's first encoding, base64 text for a polling client, raw bytes for
a websocket one, so a room holding both got a 500 on the polling GET, or base64 text on the
websocket.

Both broadcast paths use all three (sioserver.make_sio_server). The engine.io server class
and its websocket class are set through python-socketio's and python-engineio's internals
(overlay/adapters/socketio.py and engineio.py): if either is no longer where it was, the
stock one stays and a warning says so.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any

import engineio
from engineio import packet as eio_packet

from overlay.adapters import engineio as eio_adapter
from overlay.adapters.socketio import UNREADABLE, AdaptedServer

log = logging.getLogger(__name__)
CLOSE_GRACE_S = 5
_EIO_TYPES = frozenset('0123456')


def readable(message: str) -> bool:
    """Whether engine.io can decode this text message without raising."""
    if message[:1] not in _EIO_TYPES:  # engine.io's int() of the type would raise
        return False
    try:
        eio_packet.Packet(encoded_packet=message)
    except UNREADABLE:
        return False
    return True


class GuardedWebSocket(eio_adapter.WebSocket):
    """engine.io's aiohttp websocket wrapper, refusing messages engine.io cannot read."""

    refused = False

    async def wait(self):  # noqa: ANN201
        message = await super().wait()
        if isinstance(message, str) and not readable(message):
            if not self.refused:
                self.refused = True
                log.warning("closed a Socket.IO connection that sent an unreadable engine.io packet")
            await self.close()
            # engine.io's handler ends the connection on an OSError, whether it is upgrading
            # (where None would be decoded) or running
            raise OSError("unreadable engine.io packet")
        return message


class GuardedEngineIOServer(engineio.AsyncServer):
    websocket_class: type[eio_adapter.WebSocket] = GuardedWebSocket

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.async_mode == "aiohttp" and not eio_adapter.use_websocket_class(self, self.websocket_class):
            log.warning("engine.io's aiohttp websocket class is not where it was: "
                        "unreadable engine.io packets are logged by aiohttp in full")

    async def send_packet(self, sid: str, pkt: eio_packet.Packet) -> None:
        if pkt.binary:  # a packet of its own, whose encoding engine.io caches for this transport
            pkt = eio_packet.Packet(pkt.packet_type, pkt.data)
        await super().send_packet(sid, pkt)


class PacketGuard(AdaptedServer):
    engineio_server_class = GuardedEngineIOServer

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._closing: set[str] = set()
        if not self.engine_class_took():
            log.warning("python-socketio no longer builds its engine.io server with _engineio_server_class: "
                        "binary broadcasts to websocket and polling clients at once may fail")
        self.packet_guard = self.message_hook_holds()
        if not self.packet_guard:
            log.warning("python-socketio no longer decodes in _handle_eio_message: "
                        "unreadable packets are logged by engine.io in full and do not close the connection")

    async def unreadable_message(self, eio_sid: str, exc: Exception) -> None:
        # Messages are handled as concurrent tasks: many may fail before the connection is
        # gone. Only the first one logs and closes; the packet itself is never logged.
        if eio_sid in self._closing or eio_sid not in self.eio.sockets:
            return
        self._closing.add(eio_sid)
        log.warning("closed a Socket.IO connection that sent an unreadable packet (%s)", type(exc).__name__)
        transport_of = getattr(self.eio, "transport_of", None)
        transport = transport_of(eio_sid) if transport_of is not None else None
        try:
            # engine.io's close sends a CLOSE packet and waits for it to be written; a client
            # that does not read could hold that forever, hence the bounded wait.
            await asyncio.wait([asyncio.ensure_future(self.eio.disconnect(eio_sid))], timeout=CLOSE_GRACE_S)
        finally:
            self._closing.discard(eio_sid)
            # A client that sends garbage may well ignore the CLOSE packet and keep its websocket open.
            if transport is not None:
                transport.close()
