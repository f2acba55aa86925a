"""overlay.realtime.fastemit against a real aiohttp server and real Socket.IO clients."""
import asyncio
import contextlib
import json
import logging
import socket
import time

import aiohttp
import pytest
import socketio
from aiohttp import web

from overlay.realtime.sioserver import make_sio_server
from tests.support import WAIT, until

NS = '/overlay'


@pytest.fixture(params=['fast', 'stock'])
def fast(request):
    """Ordering and delivery hold on both broadcast paths."""
    return request.param == 'fast'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@contextlib.asynccontextmanager
async def overlay_server(fast=True, ping_timeout=5, ping_interval=1):
    """A real server: /overlay checks the key and joins the channel's room."""
    # short pings: a polling client's disconnect waits for its pending GET
    # to time out (stock python-socketio behaviour), ping_interval + timeout.
    # Not too short: a pong that a busy machine answers late drops the client.
    sio = make_sio_server(fast=fast, ping_interval=ping_interval, ping_timeout=ping_timeout)

    @sio.on('connect', namespace=NS)
    async def on_connect(sid, environ, auth):
        if not auth or auth.get('key') != 'k':
            raise socketio.exceptions.ConnectionRefusedError('bad key')
        await sio.enter_room(sid, auth['channel'], namespace=NS)

    app = web.Application()
    sio.attach(app)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, '127.0.0.1', 0)
    await site.start()
    sio.url = f'http://127.0.0.1:{runner.addresses[0][1]}'
    try:
        yield sio
    finally:
        await sio.shutdown()
        await runner.cleanup()


class Overlay:
    """A Socket.IO client recording (event, data) in arrival order."""

    def __init__(self, channel, transport='websocket'):
        self.channel = channel
        self.transport = transport
        self.got = []
        self.client = socketio.AsyncClient(reconnection=False)
        for event in ('donation', 'progress', 'done'):
            self.client.on(event, self._recorder(event), namespace=NS)

    def _recorder(self, event):
        async def record(data):
            self.got.append((event, data))
        return record

    async def connect(self, url):
        await self.client.connect(
            url, namespaces=[NS], transports=[self.transport],
            auth={'channel': self.channel, 'key': 'k'}, wait_timeout=WAIT)
        return self

    @property
    def sid(self):
        return self.client.get_sid(NS)

    async def wait_for(self, event, timeout=WAIT):
        deadline = time.monotonic() + timeout
        while not any(e == event for e, _ in self.got):
            assert time.monotonic() < deadline, f'no {event}: {self.got}'
            await asyncio.sleep(0.01)


async def until_queues_drained(sio):
    deadline = time.monotonic() + WAIT
    while any(sock.queue.pending for sock in sio.eio.sockets.values()):
        assert time.monotonic() < deadline, 'socket queues never drained'
        await asyncio.sleep(0.01)


async def connect_all(url, overlays):
    return await asyncio.gather(*(o.connect(url) for o in overlays))


async def disconnect_all(overlays):
    await asyncio.gather(*(o.client.disconnect() for o in overlays))


async def test_room_gets_each_event_once_in_order(caplog, fast):
    caplog.set_level(logging.WARNING)
    async with overlay_server(fast=fast) as sio:
        room_a = [Overlay('a') for _ in range(6)] + [Overlay('a', 'polling')]
        room_b = [Overlay('b'), Overlay('b', 'polling')]
        await connect_all(sio.url, room_a + room_b)
        first = room_a[0]
        for i in range(40):
            await sio.emit('donation', {'i': i}, room='a', namespace=NS)
            # a callback forces the stock queue path for this one client:
            # the next broadcast must not overtake it
            await sio.emit('progress', {'i': i}, to=first.sid, namespace=NS,
                           callback=lambda *a: None)
        await sio.emit('done', {}, room=['a', 'b'], namespace=NS)
        for o in room_a + room_b:
            await o.wait_for('done')
        donations = [('donation', {'i': i}) for i in range(40)]
        assert first.got == [x for i in range(40) for x in (
            ('donation', {'i': i}), ('progress', {'i': i}))] + [('done', {})]
        for o in room_a[1:]:
            assert o.got == donations + [('done', {})], o.transport
        for o in room_b:
            assert o.got == [('done', {})]
        await disconnect_all(room_a + room_b)
    if fast:
        assert sio.manager.direct_sends > 0
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_websocket_broadcast_skips_the_queue():
    async with overlay_server() as sio:
        overlays = await connect_all(sio.url, [Overlay('a') for _ in range(5)])
        # the connect packets must drain first; no await from here to the
        # emit, so no ping can slip into a queue in between
        await until_queues_drained(sio)
        before = sio.manager.direct_sends
        await sio.emit('donation', {'i': 0}, room='a', namespace=NS)
        assert sio.manager.direct_sends - before == 5
        for o in overlays:
            await o.wait_for('donation')
            assert o.got == [('donation', {'i': 0})]
        await disconnect_all(overlays)


async def test_polling_clients_use_the_stock_path():  # fast path only
    async with overlay_server() as sio:
        overlays = await connect_all(
            sio.url, [Overlay('a', 'polling') for _ in range(3)])
        await sio.emit('donation', {'i': 1}, room='a', namespace=NS)
        for o in overlays:
            await o.wait_for('donation')
            assert o.got == [('donation', {'i': 1})]
        assert sio.manager.direct_sends == 0
        await disconnect_all(overlays)


async def test_disconnect_mid_broadcast_is_harmless(caplog, fast):
    caplog.set_level(logging.WARNING)
    async with overlay_server(fast=fast) as sio:
        stay = [Overlay('a') for _ in range(10)]
        leave = [Overlay('a') for _ in range(10)] + [Overlay('a', 'polling')]
        await connect_all(sio.url, stay + leave)
        leaving = [asyncio.create_task(o.client.disconnect()) for o in leave]
        for i in range(30):
            await sio.emit('donation', {'i': i}, room='a', namespace=NS)
            if i == 3:
                # a client whose TCP connection just vanishes
                stay[0].client.eio.ws._response.connection.transport.abort()
        await asyncio.gather(*leaving)
        await sio.emit('done', {}, room='a', namespace=NS)
        for o in stay[1:]:
            await o.wait_for('done')
            assert o.got == [('donation', {'i': i}) for i in range(30)] + [
                ('done', {})]
        await disconnect_all(stay)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_clients_that_leave_leave_every_room(fast):
    """What the manager holds after clients leave, by a disconnect or a vanished connection,
    is exactly the clients still there (the fast path finds their rooms by its index)."""
    async with overlay_server(fast=fast) as sio:
        overlays = await connect_all(sio.url, [Overlay(ch) for ch in 'ab' * 8])
        leave, stay = overlays[:6], overlays[6:]
        await sio.enter_room(stay[0].sid, 'extra', namespace=NS)
        await sio.enter_room(leave[0].sid, 'extra', namespace=NS)
        leave[1].client.eio.ws._response.connection.transport.abort()
        await disconnect_all([o for o in leave if o is not leave[1]])
        want = {o.sid for o in stay}

        def held():
            rooms = sio.manager.rooms.get(NS, {})
            return {room: set(members) for room, members in rooms.items()}
        rooms = await until(held, lambda r: set(r.get(None, ())) == want,
                            what=f'only the staying clients {want} connected')
        assert rooms['a'] == {o.sid for o in stay if o.channel == 'a'}
        assert rooms['b'] == {o.sid for o in stay if o.channel == 'b'}
        assert rooms['extra'] == {stay[0].sid}
        assert set(rooms) == {None, 'a', 'b', 'extra'} | want
        if fast:
            assert {sid for ns, sid in sio.manager.rooms_of if ns == NS} == want
        await sio.emit('done', {}, room=['a', 'b'], namespace=NS)
        for o in stay:
            await o.wait_for('done')
        await disconnect_all(stay)


async def test_slow_reader_falls_back_to_the_queue_in_order(fast):
    # the slow overlay answers no ping while it does not read: it must
    # not be dropped however long the burst takes on this machine
    async with overlay_server(fast=fast, ping_timeout=WAIT) as sio:
        slow, quick = await connect_all(sio.url, [Overlay('a'), Overlay('a')])
        # the slow overlay stops reading: kernel buffers, then the server's
        # transport buffer fill up
        transport = slow.client.eio.ws._response.connection.transport
        transport.pause_reading()
        blob = 'x' * 32768
        for i in range(300):
            await sio.emit('donation', {'i': i, 'blob': blob}, room='a',
                           namespace=NS)
        if fast:
            assert sio.manager.queued_sends > 0
        transport.resume_reading()
        await sio.emit('done', {}, room='a', namespace=NS)
        for o in (slow, quick):
            await o.wait_for('done')
            assert [d['i'] for e, d in o.got if e == 'donation'] == list(
                range(300))
        await disconnect_all([slow, quick])


async def test_server_options_reach_the_wire(fast):
    async with overlay_server(fast=fast) as sio, aiohttp.ClientSession() as http:
        url = sio.url + '/socket.io/?EIO=4&transport=websocket'
        async with http.ws_connect(url, compress=15) as ws:
            # stock engine.io accepts permessage-deflate; only the fast path can refuse it
            assert ('Sec-WebSocket-Extensions' not in ws._response.headers) == fast
            opened = await ws.receive_str()
        assert opened[0] == '0'
        assert json.loads(opened[1:])['maxPayload'] == 64 * 1024
        async with http.get(sio.url + '/socket.io/?EIO=4&transport=polling',
                            headers={'Accept-Encoding': 'gzip'}) as resp:
            assert 'Content-Encoding' not in resp.headers
    defaults = make_sio_server(fast=fast).eio
    assert (defaults.ping_interval, defaults.ping_timeout) == (15, 20)
