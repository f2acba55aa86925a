"""The Socket.IO server of this process: the fast broadcast path when its start-up self-test
passed (overlay/realtime/fastcheck.py), stock python-socketio emission otherwise."""
from __future__ import annotations

import socketio

from overlay.realtime.fastcheck import use_fast_broadcast
from overlay.realtime.fastemit import SERVER_DEFAULTS, FastAsyncManager, FastAsyncServer, library_loggers
from overlay.realtime.handshake import Handshakes
from overlay.realtime.sioguard import PacketGuard


class StockManager(Handshakes, socketio.AsyncManager):
    """python-socketio's manager, telling when a handshake is over (handshake.py)."""


class FastManager(Handshakes, FastAsyncManager):
    """The fast path's manager, telling when a handshake is over (handshake.py)."""


def make_sio_server(*, fast: bool | None = None, **kw) -> socketio.AsyncServer:
    """The Socket.IO server of this process. Several processes share a channel through the
    store's notifications (overlay/store), not through a Socket.IO pub/sub manager.

    fast: None decides by the start-up self-test and OVERLAY_FAST_BROADCAST
    (overlay/realtime/fastcheck.py); True/False force a path (tests of each path).
    Keyword arguments override SERVER_DEFAULTS and go to socketio.AsyncServer
    (e.g. cors_allowed_origins; same-origin only by default).
    """
    if fast is None:
        fast = use_fast_broadcast()
    options = {**library_loggers(), **SERVER_DEFAULTS, **kw}
    if not fast:  # stock emission, but still the guard against unreadable packets (sioguard.py)
        return PacketGuard(client_manager=StockManager(), **options)
    return FastAsyncServer(client_manager=FastManager(), **options)
