"""Cheap room broadcasts for python-socketio on aiohttp, without forking it.

Stock python-socketio sends a broadcast to N clients as N tasks, each putting
the packet on the client's engine.io queue, where N writer tasks pick it up,
re-encode it and hand it to aiohttp. Here an emit without a callback encodes
the packet once, builds the complete WebSocket frame once, and writes those
bytes straight to the transport of every recipient that is on a websocket.

A recipient takes the direct path only when nothing of its own is pending:
its engine.io queue holds no packet that the writer task has not finished
with, the writer is not suspended inside a send, and no emit is still putting
a packet in its queue (stock python-socketio puts it there from a task of its
own, which runs later: a direct write in between would overtake it; while
such an emit runs, its recipients are held). Otherwise the packet goes
through the stock queue, so each client sees packets in the order they were
emitted. Polling clients, binary packets and emits with a callback always use
the stock path.

A websocket becomes its session's direct-write handle once engine.io runs the
session on it: at once for a new connection, after the UPGRADE packet for a
polling session upgrading, and only if no other websocket holds it. Another
websocket opened for the same session meanwhile (which engine.io lets in until
the upgrade completes) gets nothing, as with stock python-socketio.

Backpressure: a client whose transport buffer is over DIRECT_BUFFER_LIMIT
falls back to the queue, i.e. exactly the stock behaviour (the writer task
waits on aiohttp's drain; the engine.io ping timeout ends a dead client).

Internals relied on (written against python-socketio 5.18, python-engineio 4.15,
aiohttp 3.14; every private attribute is reached through overlay/adapters/; not pinned:
overlay/realtime/fastcheck.py tests the path live at start-up and sioserver.make_sio_server
falls back to stock python-socketio when that fails, or when OVERLAY_FAST_BROADCAST=off):
the aiohttp driver's WebSocket wrapper and its aiohttp response
(overlay/adapters/engineio.py), called with the socket's bound `_websocket_handler`; the
socket's `queue` made by `create_queue()` and used with
get/get_nowait/put/put_nowait/task_done/join by `AsyncSocket`, `AsyncSocket.upgraded`,
`upgrading`, `closing`, `closed`, `connected`, `sid`; python-socketio's engine.io server
class and its one-packet send (overlay/adapters/socketio.py); `AsyncManager.emit` creating
its send tasks before it first suspends and returning once they are done,
`AsyncSocket._websocket_handler` setting `upgraded` before it reads from the upgraded
websocket, `BaseManager.get_participants` and `AsyncPubSubManager._handle_emit` calling the
base manager's `emit`; the manager's tables, for the room index that makes a disconnect O(1)
(overlay/realtime/roomindex.py).
"""
import asyncio
import contextlib
import logging
import struct

import socketio
from engineio import packet as eio_packet
from aiohttp.web import WebSocketResponse
from socketio import packet as sio_packet

from overlay.adapters import engineio as eio_adapter
from overlay.adapters.socketio import send_eio_packet
from overlay.realtime.leanqueue import LeanQueue
from overlay.realtime.roomindex import RoomIndex
from overlay.realtime.sioguard import GuardedEngineIOServer, GuardedWebSocket, PacketGuard

# Over this many bytes waiting in a client's transport, stop writing directly.
DIRECT_BUFFER_LIMIT = 64 * 1024


def ws_text_frame(payload: bytes) -> bytes:
    """One final, unmasked (server-to-client) WebSocket text frame."""
    size = len(payload)
    if size < 126:
        header = struct.pack('!BB', 0x81, size)
    elif size < 65536:
        header = struct.pack('!BBH', 0x81, 126, size)
    else:
        header = struct.pack('!BBQ', 0x81, 127, size)
    return header + payload


class _DirectWebSocket(GuardedWebSocket):
    """engine.io's aiohttp websocket wrapper, exposing the transport."""

    sending = 0
    transport = None
    response = None  # aiohttp's WebSocketResponse, which engine.io's wrapper writes to
    eio_socket = None
    claimable = False  # engine.io runs its session on this websocket

    def __init__(self, handler, server):
        super().__init__(handler, server)
        self.server = server  # older engine.io (4.13) does not keep it

    async def __call__(self, environ):
        request = environ['aiohttp.request']
        # compress=False: permessage-deflate costs a zlib stream per client
        # and would make a shared pre-built frame impossible.
        self.response = WebSocketResponse(
            max_msg_size=self.server.max_http_buffer_size, compress=False)
        eio_adapter.set_response(self, self.response)
        await self.response.prepare(request)
        self.environ = environ
        self.transport = request.transport
        self.eio_socket = eio_socket = getattr(self.handler, '__self__', None)
        # a session already connected is upgrading from polling: only its UPGRADE packet
        # moves it to this websocket
        self.claimable = eio_socket is not None and not eio_socket.connected
        try:
            await self.handler(self)
        finally:
            if eio_socket is not None and self.server.direct_ws.get(eio_socket.sid) is self:
                del self.server.direct_ws[eio_socket.sid]
        return eio_adapter.response_of(self)

    async def send(self, message):
        # The writer task only suspends in here (aiohttp drain); while it
        # does, it may hold packets a direct write would overtake.
        self.sending += 1
        try:
            await super().send(message)
        finally:
            self.sending -= 1

    async def wait(self):
        # engine.io's handler reads from the websocket it runs the session on, once
        # `upgraded` is set: the first read from then on claims the session's handle
        sock = self.eio_socket
        if self.claimable and sock.upgraded and sock.sid not in self.server.direct_ws:
            self.server.direct_ws[sock.sid] = self
        message = await super().wait()
        if message == '5' and sock is not None and sock.upgrading:
            self.claimable = True
        return message

    def write_direct(self, frame: bytes) -> bool:
        transport = self.transport
        if self.sending or self.response is None or self.response.closed \
                or transport is None or transport.is_closing() \
                or transport.get_write_buffer_size() > DIRECT_BUFFER_LIMIT:
            return False
        transport.write(frame)
        return True


class FastEngineIOServer(GuardedEngineIOServer):
    """engine.io server whose sockets can be written to directly."""

    websocket_class = _DirectWebSocket

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # engine.io session id -> the websocket its frames may be written to directly
        self.direct_ws: dict[str, _DirectWebSocket] = {}

    @contextlib.contextmanager
    def holding(self, eio_sids):
        """No direct write to these clients while the stock send tasks an emit made for
        them have not put their packets in the clients' queues: each queue counts a
        pending packet meanwhile, which write_direct already checks (no cost to a
        broadcast that holds nothing)."""
        queues = [sock.queue for sock in map(self.sockets.get, eio_sids)
                  if sock is not None and isinstance(sock.queue, LeanQueue)]
        for queue in queues:
            queue.hold()
        try:
            yield
        finally:
            for queue in queues:
                queue.task_done()

    def create_queue(self, *args, **kwargs):
        if args or kwargs:  # a bounded queue asked for: not what a socket uses
            return super().create_queue(*args, **kwargs)
        return LeanQueue()

    def transport_of(self, eio_sid):
        """The TCP transport of a websocket client, for sioguard to close."""
        ws = self.direct_ws.get(eio_sid)
        return None if ws is None else ws.transport

    def write_direct(self, eio_sid, frame: bytes) -> bool:
        """Write a pre-built frame if that keeps this client's order."""
        sock = self.sockets.get(eio_sid)
        if sock is None or sock.closing or sock.closed \
                or not sock.upgraded or sock.upgrading \
                or getattr(sock.queue, 'pending', 1):
            return False
        ws = self.direct_ws.get(eio_sid)
        return ws is not None and ws.write_direct(frame)


class FastAsyncServer(PacketGuard):
    engineio_server_class = FastEngineIOServer


class FastEmitMixin(socketio.AsyncManager):
    """Manager mixin: room broadcasts encode and frame a packet once."""

    # deliveries per path, for metrics and to tell the fast path is taken
    direct_sends = 0
    queued_sends = 0

    async def emit(self, event, data, namespace, room=None, skip_sid=None,
                   callback=None, to=None, **kwargs):
        await self.emit_packets([(event, data)], namespace, to or room, skip_sid=skip_sid, callback=callback)

    async def emit_packets(self, packets, namespace, room, skip_sid=None, callback=None):
        """Events to a room, in order (``emit`` is this with one). Every recipient that can be
        written to directly gets all their frames in one write (a commit of 50 donations is one
        write per overlay, not 100); the others get the packets through their queue, in order.
        With a callback (a packet per recipient, its own ack id) or bytes in a payload (binary
        attachments), the stock emit, one after another."""
        if namespace not in self.rooms:
            return
        skip = skip_sid if isinstance(skip_sid, list) else [skip_sid]
        recipients = [eio_sid for sid, eio_sid in self.get_participants(namespace, room) if sid not in skip]
        if not recipients:  # nobody to send to: no encoding either
            return
        pkts = None if callback else _eio_packets(self.server.packet_class, packets, namespace)
        if pkts is None:
            with _holding(self.server.eio, recipients):
                for event, data in packets:
                    await super().emit(event, data, namespace, room=room, skip_sid=skip_sid, callback=callback)
            return
        frames = b''.join(ws_text_frame(p.encode().encode('utf-8')) for p in pkts)
        write_direct = getattr(self.server.eio, 'write_direct', None)
        queued = []
        direct = 0
        for eio_sid in recipients:
            if write_direct is not None and write_direct(eio_sid, frames):
                direct += 1
            else:
                queued.append(eio_sid)
        self.direct_sends += direct * len(pkts)
        self.queued_sends += len(queued) * len(pkts)
        if queued:
            send = _send_one if len(pkts) == 1 else _send_in_order
            with _holding(self.server.eio, queued):
                await asyncio.wait([asyncio.create_task(send(self.server, s, pkts)) for s in queued])


class Encoded(dict):
    """An event payload with its JSON already made (``overlay.domain.state.Event.data_json``):
    the fast path puts that text in the packet instead of encoding the payload again. To
    anything else it is the plain dict it holds."""
    __slots__ = ('json',)

    def __init__(self, data: dict, json_text: str):
        super().__init__(data)
        self.json = json_text


def _eio_packets(packet_class, packets, namespace) -> list[eio_packet.Packet] | None:
    """One engine.io MESSAGE packet per event; None if a payload holds bytes."""
    try:
        return [eio_packet.Packet(eio_packet.MESSAGE, _packet_text(packet_class, event, data, namespace))
                for event, data in packets]
    except TypeError:
        return None


def _packet_text(packet_class, event, data, namespace) -> str:
    """The Socket.IO EVENT packet (as ``Packet.encode`` writes it); TypeError for bytes."""
    if type(data) is Encoded:
        prefix = '2' if namespace in (None, '/') else f'2{namespace},'
        return f'{prefix}[{packet_class.json.dumps(event)},{data.json}]'
    # binary=False: no walk over the payload looking for bytes; JSON refuses bytes anyway
    return packet_class(sio_packet.EVENT, namespace=namespace, data=[event] + _as_args(data),
                        binary=False).encode()


async def emit_many(manager, packets, namespace, room):
    """Several events to a room, in order: FastEmitMixin.emit_packets on the fast path;
    otherwise one emit after another."""
    if isinstance(manager, FastEmitMixin):
        await manager.emit_packets(packets, namespace, room)
        return
    for event, data in packets:
        await manager.server.emit(event, data, room=room, namespace=namespace)


def _holding(eio, eio_sids):  # noqa: ANN001, ANN202
    holding = getattr(eio, 'holding', None)
    return contextlib.nullcontext() if holding is None else holding(eio_sids)


def _send_one(server, eio_sid, pkts):  # noqa: ANN001, ANN202
    return send_eio_packet(server, eio_sid, pkts[0])  # the coroutine itself: no frame of ours per recipient


async def _send_in_order(server, eio_sid, pkts):
    for pkt in pkts:
        await send_eio_packet(server, eio_sid, pkt)


def _as_args(data) -> list:
    # same rule as AsyncManager.emit: a tuple is several arguments
    if isinstance(data, tuple):
        return list(data)
    return [] if data is None else [data]


class FastAsyncManager(RoomIndex, FastEmitMixin):
    """One process: rooms in memory, each client's rooms indexed (roomindex.py), fast broadcasts."""


SERVER_DEFAULTS = {
    'async_mode': 'aiohttp',
    # pings every 15 s, client declared gone 20 s later: a dead overlay is
    # noticed in ~35 s (stock: 45 s) at ~670 pings/s for 10,000 clients
    'ping_interval': 15,
    'ping_timeout': 20,
    # overlays only send auth and pongs; big frames are abuse
    'max_http_buffer_size': 64 * 1024,
    # polling payloads are tiny; gzip would cost CPU per response
    'http_compression': False,
}


def _library_logger(name: str) -> logging.Logger:
    """The library's own logger, handed over as a Logger: given True/False (the default),
    python-socketio and engine.io each add a StreamHandler of their own to it, and every line
    they log was printed twice, once bare and once through the root handler."""
    logger = logging.getLogger(name)
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.ERROR)  # the level they set themselves when given False
    return logger


def library_loggers() -> dict:
    """The server options that hand python-socketio and engine.io their loggers."""
    return {"logger": _library_logger("socketio.server"), "engineio_logger": _library_logger("engineio.server")}
