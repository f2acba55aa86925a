"""Raw Socket.IO clients over loopback that record every frame the server sends them.

``RawWebSocket``: an aiohttp websocket speaking engine.io itself (frames as sent: ``str`` for
text, ``bytes`` for binary). ``PollingClient``: plain HTTP long-polling (the decoded packets of
every GET: ``str``, or ``bytes`` for a base64 attachment), which can upgrade to a websocket in
the middle of a run, as engine.io's own client does. Both join /overlay with the test server's
auth (tests/test_fastemit.py) and record from the packet after their connect packet on.
"""
from __future__ import annotations

import asyncio
import base64
import json
import re
from typing import Any

import aiohttp

from tests.support import WAIT

NS = '/overlay'
SEPARATOR = '\x1e'  # between the packets of a polling payload
NOOP = '6'  # engine.io's filler while a transport changes: when it comes depends on timing


def auth_packet(channel: str) -> str:
    return f'40{NS},' + json.dumps({'channel': channel, 'key': 'k'})


def is_done(frame: str | bytes) -> bool:
    return isinstance(frame, str) and re.match(rf'42{NS},\d*\["done"', frame) is not None


def connected_sid(packet: str) -> str:
    assert packet.startswith(f'40{NS},'), packet
    return json.loads(packet[len(NS) + 3:])['sid']


class Recorder:
    def __init__(self) -> None:
        self.frames: list[str | bytes] = []
        self.done = asyncio.Event()

    def record(self, frame: str | bytes) -> None:
        if frame != NOOP:
            self.frames.append(frame)
        if is_done(frame):
            self.done.set()


class RawWebSocket(Recorder):
    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        super().__init__()
        self.ws = ws
        self.sid = ''
        self.task: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, http: aiohttp.ClientSession, url: str, channel: str) -> 'RawWebSocket':
        client = cls(await http.ws_connect(f'{url}/socket.io/?EIO=4&transport=websocket'))
        assert (await client.ws.receive_str(timeout=WAIT)).startswith('0{')
        await client.ws.send_str(auth_packet(channel))
        client.sid = connected_sid(await client.ws.receive_str(timeout=WAIT))
        client.start()
        return client

    def start(self) -> None:
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        while not self.done.is_set():
            msg = await self.ws.receive()
            if msg.type not in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                return
            self.record(msg.data)

    @property
    def transport(self) -> asyncio.Transport:
        return self.ws._response.connection.transport  # the connection under the websocket

    def stop_reading(self) -> None:
        """Read nothing more (a frozen tab): kernel buffers, then the server's fill up."""
        self.transport.pause_reading()

    def resume_reading(self) -> None:
        self.transport.resume_reading()


class PollingClient(Recorder):
    def __init__(self, http: aiohttp.ClientSession, url: str) -> None:
        super().__init__()
        self.http = http
        self.url = url
        self.endpoint = f'{url}/socket.io/?EIO=4&transport=polling'
        self.eio_sid = self.sid = ''
        self.polling = True
        self.task: asyncio.Task[None] | None = None
        self.ws: RawWebSocket | None = None

    @classmethod
    async def open(cls, http: aiohttp.ClientSession, url: str, channel: str) -> 'PollingClient':
        client = cls(http, url)
        [opened] = await client.get()
        client.eio_sid = json.loads(opened[1:])['sid']
        client.endpoint += f'&sid={client.eio_sid}'
        await client.post(auth_packet(channel))
        [joined] = await client.get()
        client.sid = connected_sid(joined)
        client.task = asyncio.create_task(client._poll())
        return client

    async def get(self) -> list[str | bytes]:
        async with self.http.get(self.endpoint, timeout=aiohttp.ClientTimeout(total=WAIT)) as resp:
            assert resp.status == 200, (resp.status, await resp.text())
            return [decode_polled(p) for p in (await resp.text()).split(SEPARATOR)]

    async def post(self, body: str) -> None:
        async with self.http.post(self.endpoint, data=body.encode()) as resp:
            assert resp.status == 200, (resp.status, await resp.text())

    async def _poll(self) -> None:
        while self.polling and not self.done.is_set():
            for packet in await self.get():
                self.record(packet)

    async def probe(self) -> None:
        """The first half of an upgrade: a websocket for this session, probed; polling paused
        (the server ends a GET in flight with a NOOP)."""
        self.polling = False
        ws = await self.http.ws_connect(f'{self.url}/socket.io/?EIO=4&transport=websocket&sid={self.eio_sid}')
        await ws.send_str('2probe')
        assert await ws.receive_str(timeout=WAIT) == '3probe'
        await self.task
        self.ws = RawWebSocket(ws)

    async def upgrade(self) -> None:
        """The second half: UPGRADE sent; from now on, frames come on the websocket."""
        assert self.ws is not None
        self.ws.frames, self.ws.done = self.frames, self.done  # one recording, both transports
        await self.ws.ws.send_str('5')
        self.ws.start()
        self.task = self.ws.task


def decode_polled(packet: str) -> str | bytes:
    return base64.b64decode(packet[1:]) if packet.startswith('b') else packet


def event_index(frame: str | bytes) -> Any:
    """The ``i`` of an event frame (``42/overlay,["donation",{"i":3}]``, with an ack id or
    binary placeholders too), None for anything else."""
    match = re.match(rf'4[25](?:\d+-)?{NS},\d*(\[.*)', frame) if isinstance(frame, str) else None
    return json.loads(match.group(1))[1].get('i') if match else None
