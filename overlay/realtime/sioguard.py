"""One short log line, then the door, for a Socket.IO client that sends unreadable packets.

python-socketio decodes every incoming message in ``AsyncServer._handle_eio_message``.
A packet it cannot read ("4{", "4\\x00", an unknown type) raises there; engine.io logs
the traceback at ERROR and keeps the connection open, so 2,000 two-byte packets made
3.6 MB of log in 1.8 s. python-socketio offers no hook for a packet it cannot decode
(a ``serializer`` subclass could refuse it, but knows neither the connection nor how to
close it), so this wraps that one method. Checked at start-up: if python-socketio no
longer routes messages through it, the stock behaviour stays and a warning says so. Both
broadcast paths use it (fastemit.make_sio_server); the engine.io-level guard (a packet type
engine.io cannot read) lives in the fast path's websocket class only.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any

import socketio

log = logging.getLogger(__name__)
# What decoding raises for garbage (json errors are ValueErrors; JSON nested thousands deep,
# which fits in one 64 KiB message, is a RecursionError); python-socketio raises
# ValueError itself for an unknown or unexpected packet type.
UNREADABLE = (ValueError, TypeError, IndexError, KeyError, RecursionError)
CLOSE_GRACE_S = 5


class PacketGuard(socketio.AsyncServer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._closing: set[str] = set()
        self.packet_guard = self.eio.handlers.get("message") == self._handle_eio_message
        if not self.packet_guard:
            log.warning("python-socketio no longer decodes in _handle_eio_message: "
                        "unreadable packets are logged by engine.io in full and do not close the connection")

    async def _handle_eio_message(self, eio_sid: str, data: Any) -> None:
        try:
            await super()._handle_eio_message(eio_sid, data)
        except UNREADABLE as exc:
            await self._close_unreadable(eio_sid, exc)

    async def _close_unreadable(self, eio_sid: str, exc: Exception) -> None:
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
