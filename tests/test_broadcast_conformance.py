"""The fast broadcast path sends every client exactly what stock python-socketio sends it.

One script (text and binary events, rooms, skip_sid, acknowledgements, emits started together
and emits left running as tasks, a client upgrading from polling mid-run, a second websocket
for that session, a client that stops reading during a burst) runs once on the fast path and
once on stock python-socketio emission. Every client records every frame (for polling, the
decoded packets); the two recordings must be identical.
"""
from __future__ import annotations

import asyncio
import functools
import socket
from typing import Any

import aiohttp

from tests.sioclients import NS, PollingClient, RawWebSocket, event_index
from tests.support import WAIT, until
from tests.test_fastemit import Overlay, overlay_server

BLOB = bytes(range(256))


async def test_fast_and_stock_send_the_same_frames() -> None:
    fast, fast_stats = await run_script(fast=True)
    stock, _ = await run_script(fast=False)
    assert fast.keys() == stock.keys()
    for name in stock:
        assert fast[name] == stock[name], name
    # the comparison means something: the fast path was taken, and fell back for the slow reader
    assert fast_stats['direct'] > 0 and fast_stats['queued_for_slow'] > 0, fast_stats
    # and what both sent is right: each attachment a binary frame, each client's events in order
    for name in ('ws_a', 'ws_b', 'slow', 'upgraded', 'second_ws'):
        assert not [f for f in stock[name] if isinstance(f, str) and f.startswith('b')], name
    acker = [data['i'] for event, data in stock['acker'] if event != 'done']
    assert acker == sorted(acker) and len(acker) == len(set(acker)), acker
    for name in ('ws_a', 'poll_a', 'upgraded', 'slow'):
        seen = [i for i in map(event_index, stock[name]) if i is not None]
        assert seen == sorted(seen), (name, seen)


async def run_script(fast: bool) -> tuple[dict[str, list[Any]], dict[str, int]]:
    # no engine.io pings during the run: when one lands would differ between the runs
    async with overlay_server(fast=fast, ping_interval=WAIT, ping_timeout=WAIT) as sio, \
            aiohttp.ClientSession() as http:
        emit = functools.partial(sio.emit, namespace=NS)
        ws_a, ws_b, slow = [await RawWebSocket.open(http, sio.url, ch) for ch in 'abs']
        poll_a, upgrading = [await PollingClient.open(http, sio.url, 'a') for _ in range(2)]
        acker = await Overlay('a').connect(sio.url)
        acks: list[tuple[Any, ...]] = []

        async def step(i: int) -> None:
            if i % 4 == 1:  # to one client, with an acknowledgement
                await emit('progress', {'i': i}, to=acker.sid, callback=lambda *a: acks.append(a))
            elif i % 4 == 3:  # binary, to websocket and polling clients alike
                await emit('donation', {'i': i, 'blob': BLOB[:i]}, room='a')
            elif i % 8 == 2:
                await emit('donation', {'i': i}, room=['a', 'b'], skip_sid=ws_a.sid)
            else:
                await emit('donation', {'i': i}, room='a')

        for i in range(8):  # one after another
            await step(i)
        await asyncio.gather(*(step(i) for i in range(8, 40)))  # started together
        running = [asyncio.create_task(step(i)) for i in range(40, 72)]  # left running
        await upgrading.probe()
        # a second websocket for the same session, opened during the upgrade: it gets nothing
        second = await http.ws_connect(f'{sio.url}/socket.io/?EIO=4&transport=websocket&sid={upgrading.eio_sid}')
        await step(72)  # queued for the upgrading client
        await upgrading.upgrade()
        await until(lambda: sio.eio.sockets[upgrading.eio_sid].upgraded, what='the upgrade')
        await asyncio.gather(*running)
        for i in range(73, 80):
            await step(i)
        queued = getattr(sio.manager, 'queued_sends', 0)
        # small buffers at both ends: the burst fills them, and the server's transport buffer
        server_side = sio.get_environ(slow.sid, namespace=NS)['aiohttp.request'].transport
        server_side.get_extra_info('socket').setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        slow.stop_reading()
        for i in range(80, 180):  # ~1.6 MB for a client that reads nothing
            await emit('donation', {'i': i, 'pad': 'x' * 16384}, room='s')
        queued_for_slow = getattr(sio.manager, 'queued_sends', 0) - queued
        slow.resume_reading()
        await emit('done', {}, room=['a', 'b', 's'])
        for client in (ws_a, ws_b, slow, poll_a, upgrading):
            await asyncio.wait_for(client.done.wait(), WAIT)
        await acker.wait_for('done')
        await until(lambda: len(acks) == 20, what='every acknowledgement')
        # nothing reached the second websocket: its probe is answered before anything else
        await second.send_str('2probe')
        second_frames = []
        while (frame := await second.receive_str(timeout=WAIT)) != '3probe':
            second_frames.append(frame)
        recordings = {'ws_a': ws_a.frames, 'ws_b': ws_b.frames, 'slow': slow.frames, 'poll_a': poll_a.frames,
                      'upgraded': upgrading.frames, 'second_ws': second_frames, 'acker': acker.got,
                      'acks': acks}
        await second.close()
        await acker.client.disconnect()
        stats = {'direct': getattr(sio.manager, 'direct_sends', 0), 'queued_for_slow': queued_for_slow}
    return recordings, stats
