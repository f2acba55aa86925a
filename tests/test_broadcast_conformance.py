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
        run = await Run.open(sio, http)
        await run.play()
        queued_for_slow = await run.burst_to_a_slow_reader()
        recordings = await run.finish()
        stats = {'direct': getattr(sio.manager, 'direct_sends', 0), 'queued_for_slow': queued_for_slow}
    return recordings, stats


class Run:
    """The clients of one run, and the script they go through."""

    def __init__(self, sio: Any, http: aiohttp.ClientSession) -> None:
        self.sio, self.http = sio, http
        self.emit = functools.partial(sio.emit, namespace=NS)
        self.acks: list[tuple[Any, ...]] = []

    @classmethod
    async def open(cls, sio: Any, http: aiohttp.ClientSession) -> 'Run':
        run = cls(sio, http)
        run.ws_a, run.ws_b, run.slow = [await RawWebSocket.open(http, sio.url, ch) for ch in 'abs']
        run.poll_a, run.upgrading = [await PollingClient.open(http, sio.url, 'a') for _ in range(2)]
        run.acker = await Overlay('a').connect(sio.url)
        return run

    async def step(self, i: int) -> None:
        if i % 4 == 1:  # to one client, with an acknowledgement
            await self.emit('progress', {'i': i}, to=self.acker.sid, callback=lambda *a: self.acks.append(a))
        elif i % 4 == 3:  # binary, to websocket and polling clients alike
            await self.emit('donation', {'i': i, 'blob': BLOB[:i]}, room='a')
        elif i % 8 == 2:
            await self.emit('donation', {'i': i}, room=['a', 'b'], skip_sid=self.ws_a.sid)
        else:
            await self.emit('donation', {'i': i}, room='a')

    async def play(self) -> None:
        for i in range(8):  # one after another
            await self.step(i)
        await asyncio.gather(*(self.step(i) for i in range(8, 40)))  # started together
        running = [asyncio.create_task(self.step(i)) for i in range(40, 72)]  # left running
        await self.upgrading.probe()
        # a second websocket for the same session, opened during the upgrade: it gets nothing
        self.second = await self.http.ws_connect(
            f'{self.sio.url}/socket.io/?EIO=4&transport=websocket&sid={self.upgrading.eio_sid}')
        await self.step(72)  # queued for the upgrading client
        await self.upgrading.upgrade()
        await until(lambda: self.sio.eio.sockets[self.upgrading.eio_sid].upgraded, what='the upgrade')
        await asyncio.gather(*running)
        for i in range(73, 80):
            await self.step(i)

    async def burst_to_a_slow_reader(self) -> int:
        """~1.6 MB for a client that reads nothing; how many sends the fast path queued."""
        queued = getattr(self.sio.manager, 'queued_sends', 0)
        # small buffers at both ends: the burst fills them, and the server's transport buffer
        server_side = self.sio.get_environ(self.slow.sid, namespace=NS)['aiohttp.request'].transport
        server_side.get_extra_info('socket').setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        self.slow.stop_reading()
        for i in range(80, 180):
            await self.emit('donation', {'i': i, 'pad': 'x' * 16384}, room='s')
        self.slow.resume_reading()
        return getattr(self.sio.manager, 'queued_sends', 0) - queued

    async def finish(self) -> dict[str, list[Any]]:
        await self.emit('done', {}, room=['a', 'b', 's'])
        for client in (self.ws_a, self.ws_b, self.slow, self.poll_a, self.upgrading):
            await asyncio.wait_for(client.done.wait(), WAIT)
        await self.acker.wait_for('done')
        await until(lambda: len(self.acks) == 20, what='every acknowledgement')
        # nothing reached the second websocket: its probe is answered before anything else
        await self.second.send_str('2probe')
        second_frames = []
        while (frame := await self.second.receive_str(timeout=WAIT)) != '3probe':
            second_frames.append(frame)
        await self.second.close()
        await self.acker.client.disconnect()
        return {'ws_a': self.ws_a.frames, 'ws_b': self.ws_b.frames, 'slow': self.slow.frames,
                'poll_a': self.poll_a.frames, 'upgraded': self.upgrading.frames, 'second_ws': second_frames,
                'acker': self.acker.got, 'acks': self.acks}
