"""Each client's rooms, indexed, so that a disconnect costs the same with 10 or 10,000 clients.

python-socketio's in-memory manager keeps ``rooms[namespace][room] -> {sid: eio_sid}``, and
every client has a room of its own. Its ``basic_disconnect`` finds a leaving client's rooms
by copying the namespace's table and testing every room in it: O(N) per disconnect, O(N²)
when N clients leave together. Measured (bench/broadcast.py, 10,000 overlays dropping at
once, a stream ending or a network blip): the event loop stalled ~3.9 s and donation POSTs
waited that long; Node's socket.io, 0.57 s.

``RoomIndex`` keeps a second map, (namespace, sid) -> rooms, updated by the manager's own
enter/leave calls, and does a disconnect from it. Its bookkeeping must end exactly where
the stock manager's ends: the fast path's start-up self-test (overlay/realtime/fastcheck.py)
runs one script of connects, joins, leaves and disconnects on both and compares what they
hold; on any difference the process takes the stock manager.

Relied on (python-socketio 5.18): the manager's ``rooms``, ``callbacks``,
``pending_connect`` and ``pending_disconnect`` tables, and every join and leave passing
through ``basic_enter_room`` / ``basic_leave_room``.
"""
from __future__ import annotations

from typing import Any

import socketio


class RoomIndex(socketio.AsyncManager):
    """Manager mixin: a client's rooms found in O(its rooms), not O(all rooms)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rooms_of: dict[tuple[str, str], set[Any]] = {}

    def basic_enter_room(self, sid, namespace, room, eio_sid=None):  # noqa: ANN001, ANN201
        result = super().basic_enter_room(sid, namespace, room, eio_sid=eio_sid)
        self.rooms_of.setdefault((namespace, sid), set()).add(room)
        return result

    def basic_leave_room(self, sid, namespace, room):  # noqa: ANN001, ANN201
        result = super().basic_leave_room(sid, namespace, room)
        rooms = self.rooms_of.get((namespace, sid))
        if rooms is not None:
            rooms.discard(room)
            if not rooms:
                del self.rooms_of[(namespace, sid)]
        return result

    def basic_disconnect(self, sid, namespace, **kwargs):  # noqa: ANN001, ANN201
        if namespace not in self.rooms:
            return
        # The stock order: every room the client is in (its own and None included), then its
        # callbacks, then the pending lists.
        for room in list(self.rooms_of.get((namespace, sid), ())):
            if sid in self.rooms.get(namespace, {}).get(room, ()):
                self.basic_leave_room(sid, namespace, room)
        self.rooms_of.pop((namespace, sid), None)
        self.callbacks.pop(sid, None)
        for pending in (self.pending_connect, self.pending_disconnect):
            if namespace in pending and sid in pending[namespace]:
                pending[namespace].remove(sid)
                if not pending[namespace]:
                    del pending[namespace]
