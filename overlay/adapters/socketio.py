"""python-socketio internals (written against python-socketio 5.18).

``AdaptedServer`` gives names of ours to three private methods of ``socketio.AsyncServer``:

- ``_engineio_server_class``: the engine.io server class it builds (``engineio_server_class``).
  Check: the built server is an instance of it (``engine_class_took``); fallback: the stock
  engine.io server, without the guard's websocket class or per-recipient binary packets.
- ``_handle_eio_message``: where every incoming message is decoded; an undecodable one goes
  to ``unreadable_message``. Check: engine.io's message handler is still this method
  (``message_hook_holds``); fallback: engine.io logs the traceback and keeps the connection.
- ``_send_eio_packet``: one engine.io packet onto one client's queue, the stock path
  (``send_eio_packet``); checked by the fast path's start-up self-test
  (overlay/realtime/fastcheck.py), whose fallback is stock emission.
"""
from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import engineio
import socketio

# What decoding raises for garbage (json errors are ValueErrors; JSON nested thousands deep,
# which fits in one 64 KiB message, is a RecursionError); python-socketio raises
# ValueError itself for an unknown or unexpected packet type.
UNREADABLE = (ValueError, TypeError, IndexError, KeyError, RecursionError)


class AdaptedServer(socketio.AsyncServer):
    engineio_server_class: type[engineio.AsyncServer] = engineio.AsyncServer

    def _engineio_server_class(self) -> type[engineio.AsyncServer]:
        return self.engineio_server_class

    async def _handle_eio_message(self, eio_sid: str, data: Any) -> None:
        try:
            await super()._handle_eio_message(eio_sid, data)
        except UNREADABLE as exc:
            await self.unreadable_message(eio_sid, exc)

    async def unreadable_message(self, eio_sid: str, exc: Exception) -> None:
        raise exc

    def engine_class_took(self) -> bool:
        return isinstance(self.eio, self.engineio_server_class)

    def message_hook_holds(self) -> bool:
        return self.eio.handlers.get("message") == self._handle_eio_message


def send_eio_packet(server: socketio.AsyncServer, eio_sid: str, pkt: Any) -> Awaitable[None]:
    """Put one engine.io packet on one client's queue, as python-socketio's own emit does
    (the library's coroutine itself, no wrapper: one per recipient of a broadcast)."""
    return server._send_eio_packet(eio_sid, pkt)
