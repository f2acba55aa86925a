"""When a Socket.IO client's connect handshake is over, as an event to wait on.

python-socketio calls the connect handler before it tells the client it is connected
(the CONNECT packet) and registers it with the manager (``connect``); whatever the
handler starts for the client must wait for that. ``Handshakes`` is a manager mixin:
``expect(sid, namespace)`` in the handler gives an ``asyncio.Event`` set once the
manager's ``connect`` or ``disconnect`` ran for that client (told it is connected, or
refused, or gone). Relied on (python-socketio 5.18): ``AsyncManager.connect`` and
``AsyncManager.disconnect``, the manager's public coroutines.
"""
from __future__ import annotations

import asyncio
from typing import Any

import socketio


class Handshakes(socketio.AsyncManager):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._handshakes: dict[tuple[str, str], asyncio.Event] = {}

    def expect(self, sid: str, namespace: str) -> asyncio.Event:
        """Set when the handshake of ``sid`` on ``namespace`` is over, however it ended."""
        done = self._handshakes[(namespace, sid)] = asyncio.Event()
        return done

    def _over(self, sid: str, namespace: str) -> None:
        done = self._handshakes.pop((namespace, sid), None)
        if done is not None:
            done.set()

    async def connect(self, sid: str, namespace: str) -> Any:
        try:
            return await super().connect(sid, namespace)
        finally:
            self._over(sid, namespace)

    async def disconnect(self, sid: str, namespace: str, **kwargs: Any) -> Any:
        try:
            return await super().disconnect(sid, namespace, **kwargs)
        finally:
            self._over(sid, namespace)
