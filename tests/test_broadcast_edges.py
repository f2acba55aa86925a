"""Edges of Socket.IO delivery, on both broadcast paths: engine.io frames nested thousands
deep, emits started together, a second websocket for a session, binary broadcasts to
websocket and polling clients at once."""
from __future__ import annotations

import asyncio
import logging

import aiohttp
import pytest

from tests.sioclients import NS, PollingClient, RawWebSocket, event_index
from tests.support import WAIT, until
from tests.test_fastemit import Overlay, connect_all, disconnect_all, overlay_server


@pytest.fixture(params=['fast', 'stock'])
def fast(request: pytest.FixtureRequest) -> bool:
    return request.param == 'fast'


async def test_frames_nested_deep_close_the_connection_with_one_line(
        fast: bool, caplog: pytest.LogCaptureFixture) -> None:
    """An engine.io message of JSON nested 3,000 deep was a RecursionError traceback per frame
    (58 lines), and the session stayed open."""
    caplog.set_level(logging.INFO)
    async with overlay_server(fast=fast) as sio, aiohttp.ClientSession() as http:
        sockets = [await http.ws_connect(f'{sio.url}/socket.io/?EIO=4&transport=websocket') for _ in range(5)]
        for ws in sockets:
            assert (await ws.receive_str(timeout=WAIT)).startswith('0{')
            for _ in range(3):
                await ws.send_str('4' + '[' * 3000)
        for ws in sockets:
            while (await ws.receive(timeout=WAIT)).type not in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                pass
        await until(lambda: not sio.eio.sockets, what='every engine.io session closed')
        bystander = await Overlay('a').connect(sio.url)  # the server still serves
        await sio.emit('done', {}, room='a', namespace=NS)
        await bystander.wait_for('done')
        await bystander.client.disconnect()
    logged = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(logged) == len(sockets), [r.getMessage() for r in logged]
    assert all(r.exc_info is None and len(r.getMessage()) < 200 for r in logged), logged


async def test_emits_started_together_arrive_in_emission_order(fast: bool) -> None:
    """A binary emit or one with an acknowledgement was overtaken by plain emits started after it."""
    async with overlay_server(fast=fast) as sio:
        overlays = await connect_all(sio.url, [Overlay('a'), Overlay('a')])
        first = overlays[0]

        async def emit(i: int) -> None:
            if i % 4 == 1:
                await sio.emit('progress', {'i': i}, to=first.sid, namespace=NS, callback=lambda *a: None)
            elif i % 4 == 3:
                await sio.emit('donation', {'i': i, 'blob': b'\x00'}, room='a', namespace=NS)
            else:
                await sio.emit('donation', {'i': i}, room='a', namespace=NS)

        await asyncio.gather(*(emit(i) for i in range(16)))
        running = [asyncio.create_task(emit(i)) for i in range(16, 32)]
        await asyncio.gather(*running)
        await sio.emit('done', {}, room='a', namespace=NS)
        for o in overlays:
            await o.wait_for('done')
        assert [d['i'] for e, d in first.got if e != 'done'] == list(range(32))
        assert [d['i'] for e, d in overlays[1].got if e != 'done'] == [i for i in range(32) if i % 4 != 1]
        await disconnect_all(overlays)


async def test_a_second_websocket_for_a_session_takes_nothing_over(fast: bool) -> None:
    """A websocket opened for a session between its upgrade probe and its UPGRADE packet got
    every later fast broadcast; the upgraded connection, none."""
    async with overlay_server(fast=fast, ping_interval=WAIT, ping_timeout=WAIT) as sio, \
            aiohttp.ClientSession() as http:
        client = await PollingClient.open(http, sio.url, 'a')
        await client.probe()
        second = await http.ws_connect(f'{sio.url}/socket.io/?EIO=4&transport=websocket&sid={client.eio_sid}')
        await client.upgrade()
        sock = sio.eio.sockets[client.eio_sid]
        # the fast path's queue counts the packets taken but not yet sent too
        await until(lambda: sock.upgraded and not getattr(sock.queue, 'pending', sock.queue.qsize()),
                    what='the upgrade, its queue sent')
        direct = getattr(sio.manager, 'direct_sends', 0)
        await sio.emit('donation', {'i': 1}, room='a', namespace=NS)
        if fast:  # an upgraded client is written to directly, like any websocket client
            assert sio.manager.direct_sends == direct + 1
        # through the client's queue (an acknowledgement asked for): after the broadcast
        await sio.emit('done', {}, to=client.sid, namespace=NS, callback=lambda *a: None)
        await asyncio.wait_for(client.done.wait(), WAIT)
        assert [event_index(f) for f in client.frames] == [1, None], client.frames
        await second.send_str('2probe')  # answered before anything else: nothing else came
        assert await second.receive_str(timeout=WAIT) == '3probe'
        await second.close()


async def test_binary_broadcast_reaches_websocket_and_polling_clients(fast: bool) -> None:
    """One packet object shared by all recipients, whose first encoding engine.io caches: the
    polling GET answered 500, or websocket clients got the attachment as base64 text."""
    async with overlay_server(fast=fast, ping_interval=WAIT, ping_timeout=WAIT) as sio, \
            aiohttp.ClientSession() as http:
        # both orders: a room's members are sent to in the order they joined
        ws_first = await RawWebSocket.open(http, sio.url, 'a')
        polling = await PollingClient.open(http, sio.url, 'a')
        ws_last = await RawWebSocket.open(http, sio.url, 'a')
        await sio.emit('donation', {'i': 1, 'blob': b'\x01\x02'}, room='a', namespace=NS)
        await sio.emit('done', {}, room='a', namespace=NS)
        for client in (ws_first, polling, ws_last):
            await asyncio.wait_for(client.done.wait(), WAIT)
            assert client.frames == ['451-/overlay,["donation",{"i":1,"blob":{"_placeholder":true,"num":0}}]',
                                     b'\x01\x02', '42/overlay,["done",{}]'], client.frames
