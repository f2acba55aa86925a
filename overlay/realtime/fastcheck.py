"""Start-up self-test of the fast broadcast path (overlay/realtime/fastemit.py).

fastemit relies on python-socketio, python-engineio and aiohttp internals that
no release promises to keep. Rather than pinning those libraries, each process
checks once, before its Socket.IO server is built, that the path still works
with what is installed: a throwaway server on a loopback port, one raw
websocket client, packets queued through the stock path interleaved with
broadcasts through the fast path, emits started together of which some go
through the stock path (an acknowledgement asked for, a binary payload); every
frame must arrive exactly, in order, and an idle client must really be written
to directly; and the fast path's
manager, whose room index replaces the stock disconnect, must end one script of
connects, joins, leaves and disconnects holding exactly what the stock manager
holds. Anything missing or
wrong (an exception, a timeout, a frame out of order) makes the process run on
stock python-socketio emission, said once in the log and on /metrics.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
import time
from importlib.metadata import version

import aiohttp
import socketio
from aiohttp import web
from engineio import packet as eio_packet
from socketio import packet as sio_packet

from overlay import metrics
from overlay.realtime.fastemit import SERVER_DEFAULTS, FastAsyncManager, FastAsyncServer, library_loggers

log = logging.getLogger(__name__)
ENV_SWITCH = 'OVERLAY_FAST_BROADCAST'
TIMEOUT_S = 10.0  # generous: CI may be several times slower; it normally takes ~50 ms
ROOM = 'self-test'
# two sizes: a 7-bit and a 16-bit WebSocket length; non-ASCII so bytes != characters
SMALL = {'name': 'Zoë', 'amount': '5.00'}
LARGE = {'name': 'Zoë ' * 60, 'message': '💸' * 40}

_outcome: tuple[bool, str] | None = None
_announced: tuple[bool, str] | None = None
_lock = threading.Lock()


class SelfTestFailed(Exception):
    pass


def use_fast_broadcast() -> bool:
    """Whether this process's Socket.IO servers take the fast path; logs and exports the
    answer the first time (and again only if it changes, e.g. the env switch in tests)."""
    global _outcome, _announced
    switch = os.environ.get(ENV_SWITCH, '').strip().lower()
    if switch in ('off', '0', 'false', 'no'):
        outcome = (False, f'disabled by {ENV_SWITCH}={switch}')
    else:
        with _lock:
            if _outcome is None:
                _outcome = run_self_test()
            outcome = _outcome
    fast, reason = outcome
    metrics.FAST_BROADCAST.clear()
    metrics.FAST_BROADCAST.labels(reason).set(1 if fast else 0)
    if outcome != _announced:
        _announced = outcome
        if fast:
            log.info('fast broadcast path on: %s (%s)', reason, _versions())
        else:
            log.warning('fast broadcast path off, using stock python-socketio emission: %s (%s)',
                        reason, _versions())
    return fast


def _versions() -> str:
    return ', '.join(f'{p} {version(p)}' for p in ('python-socketio', 'python-engineio', 'aiohttp'))


def run_self_test() -> tuple[bool, str]:
    """(passed, reason). Runs in a thread of its own: its own event loop, whatever the caller's."""
    result: list[tuple[bool, str]] = []

    def target() -> None:
        started = time.perf_counter()
        try:
            asyncio.run(asyncio.wait_for(_self_test(), TIMEOUT_S))
        except TimeoutError:
            result.append((False, f'self-test timed out after {TIMEOUT_S:.0f} s'))
        except Exception as exc:  # any failure at all means: do not trust the fast path
            result.append((False, f'self-test failed: {type(exc).__name__}: {exc}'[:200]))
        else:
            took = (time.perf_counter() - started) * 1000
            result.append((True, 'self-test passed'))
            log.debug('fast broadcast self-test took %.0f ms', took)

    thread = threading.Thread(target=target, name='fast-broadcast-self-test', daemon=True)
    thread.start()
    thread.join(TIMEOUT_S + 5)
    return result[0] if result else (False, 'self-test did not finish')


async def _self_test() -> None:
    await _check_room_bookkeeping(FastAsyncManager)
    sio = FastAsyncServer(client_manager=FastAsyncManager(), **SERVER_DEFAULTS, **library_loggers())

    @sio.on('connect')
    async def on_connect(sid: str, environ: dict, auth: object = None) -> None:
        await sio.enter_room(sid, ROOM)

    app = web.Application()
    sio.attach(app)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    try:
        site = web.TCPSite(runner, '127.0.0.1', 0)
        await site.start()
        url = f'http://127.0.0.1:{runner.addresses[0][1]}/socket.io/?EIO=4&transport=websocket'
        async with aiohttp.ClientSession() as http, http.ws_connect(url, autoping=False) as ws:
            await _exchange(sio, ws)
    finally:
        await sio.shutdown()
        await runner.cleanup()


async def _exchange(sio: socketio.AsyncServer, ws: aiohttp.ClientWebSocketResponse) -> None:
    manager = sio.manager
    _expect((await ws.receive_str())[:1], '0', 'engine.io open packet')
    await ws.send_str('40')
    opened = await ws.receive_str()
    _expect(opened[:2], '40', 'socket.io connect packet')
    sid = json.loads(opened[2:])['sid']
    eio_sid = manager.eio_sid_from_sid(sid, '/')
    # stock emission, then a fast broadcast: they must arrive in that order
    await socketio.AsyncManager.emit(manager, 'stock', SMALL, '/', room=ROOM)
    await sio.emit('fast', LARGE, room=ROOM)
    _expect(_decoded(await ws.receive_str()), _frame('stock', SMALL), 'first frame')
    _expect(_decoded(await ws.receive_str()), _frame('fast', LARGE), 'second frame')
    # a packet queued for the client's writer task, which cannot have run yet (no await
    # suspends in between): the broadcast must go behind it, not past it
    encoded = sio.packet_class(sio_packet.EVENT, namespace='/', data=['queued', SMALL]).encode()
    await sio.eio.send_packet(eio_sid, eio_packet.Packet(eio_packet.MESSAGE, encoded))
    await sio.emit('behind', LARGE, room=ROOM)
    _expect(_decoded(await ws.receive_str()), _frame('queued', SMALL), 'queued frame')
    _expect(_decoded(await ws.receive_str()), _frame('behind', LARGE), 'broadcast behind it')
    await _emits_started_together(sio, sid, ws)
    await _direct_write(sio, ws)
    # the stock writer still works after frames were written past it
    await socketio.AsyncManager.emit(manager, 'after', SMALL, '/', room=ROOM)
    _expect(_decoded(await ws.receive_str()), _frame('after', SMALL), 'stock frame after direct writes')


async def _emits_started_together(sio: socketio.AsyncServer, sid: str, ws: aiohttp.ClientWebSocketResponse) -> None:
    """Stock python-socketio puts a packet in a client's queue from a task that runs later:
    a fast broadcast started after it must not be written past it."""
    await asyncio.gather(sio.emit('acked', SMALL, to=sid, callback=lambda *args: None),
                         sio.emit('binary', {'blob': b'\x01'}, room=ROOM),
                         sio.emit('plain', LARGE, room=ROOM))
    frames = [(await ws.receive()).data for _ in range(4)]
    want = ['421' + json.dumps(['acked', SMALL], separators=(',', ':')),
            '451-["binary",{"blob":{"_placeholder":true,"num":0}}]', b'\x01', _frame('plain', LARGE)]
    frames[3] = _decoded(frames[3]) if isinstance(frames[3], str) else frames[3]
    _expect(frames, want, 'emits started together')


async def _direct_write(sio: socketio.AsyncServer, ws: aiohttp.ClientWebSocketResponse) -> None:
    """An idle client is written to directly, and the frame decodes exactly."""
    manager = sio.manager
    for attempt in range(50):
        direct = manager.direct_sends
        for event, data in (('direct', SMALL), ('direct', LARGE)):
            await sio.emit(event, data, room=ROOM)
            _expect(_decoded(await ws.receive_str()), _frame(event, data), 'frame of a broadcast')
        if manager.direct_sends - direct == 2:
            return
        await asyncio.sleep(0.01)  # the writer task still had the client: try again
    raise SelfTestFailed('an idle websocket client was never written to directly')


async def _check_room_bookkeeping(manager_class: type[socketio.AsyncManager]) -> None:
    """The fast manager's tables after a script of connects, joins, leaves and disconnects
    are the stock manager's, and its room index agrees with them."""
    ours, manager = await _bookkeeping(manager_class)
    stock, _ = await _bookkeeping(socketio.AsyncManager)
    for table in stock:
        _expect(ours[table], stock[table], f'room bookkeeping ({table}) after disconnects')
    indexed = {key: rooms for key, rooms in manager.rooms_of.items() if rooms}
    actual: dict[tuple[str, str], set[object]] = {}
    for ns, rooms in manager.rooms.items():
        for room, members in rooms.items():
            for sid in members:
                actual.setdefault((ns, sid), set()).add(room)
    _expect(indexed, actual, 'room index against the rooms table')


async def _bookkeeping(manager_class: type[socketio.AsyncManager]) -> tuple[dict[str, object], socketio.AsyncManager]:
    server = socketio.AsyncServer(client_manager=manager_class(), async_mode='aiohttp', **library_loggers())
    ids = iter(range(1000))
    server.eio.generate_id = lambda: f'sid{next(ids)}'  # the same ids for both managers
    manager = server.manager
    sids = {}
    for ns in ('/', '/overlay'):
        for eio_sid in ('e1', 'e2', 'e3', 'e4'):
            sids[ns, eio_sid] = await manager.pre_connect(eio_sid, ns)
        for eio_sid in ('e1', 'e2', 'e3'):  # e4 stays pending, as during its connect handler
            await manager.connect(sids[ns, eio_sid], ns)
            await manager.enter_room(sids[ns, eio_sid], ns, ROOM)
        await manager.enter_room(sids[ns, 'e1'], ns, 'other')
        manager.callbacks[sids[ns, 'e2']] = {1: print}  # an acknowledgement it still awaits
    await manager.leave_room(sids['/', 'e3'], '/', ROOM)
    manager.pre_disconnect(sids['/', 'e2'], '/')
    await manager.disconnect(sids['/', 'e2'], '/')
    await manager.disconnect(sids['/', 'e4'], '/')
    await manager.close_room('other', '/overlay')
    for eio_sid in ('e1', 'e3', 'e3'):  # the second time, a no-op
        await manager.disconnect(sids['/overlay', eio_sid], '/overlay')
    tables = {
        'rooms': {ns: {room: dict(members) for room, members in rooms.items()}
                  for ns, rooms in manager.rooms.items()},
        'callbacks': {sid: dict(cbs) for sid, cbs in manager.callbacks.items()},
        'pending_connect': {ns: list(sids) for ns, sids in manager.pending_connect.items()},
        'pending_disconnect': {ns: list(sids) for ns, sids in manager.pending_disconnect.items()},
    }
    return tables, manager


def _frame(event: str, data: object) -> list[object]:
    return ['42', event, data]


def _decoded(text: str) -> list[object]:
    """An engine.io message carrying a socket.io event: '4' '2' JSON array."""
    try:
        return [text[:2], *json.loads(text[2:])]
    except ValueError:
        return [text[:60]]


def _expect(got: object, want: object, what: str) -> None:
    if got != want:
        raise SelfTestFailed(f'{what}: got {str(got)[:60]!r}, expected {str(want)[:60]!r}')
