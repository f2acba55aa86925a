"""The two endpoints the bench drives, on the libraries alone: the floor under our app.

    python bench/stub_server.py --port 8080 [--untuned | --bare] [--no-full-gc]

By default it runs python-socketio through overlay.realtime.sioserver.make_sio_server;
--untuned builds a stock socketio.AsyncServer (all defaults) instead, to measure what
the fast path buys; --bare uses no Socket.IO library at all: aiohttp's own WebSocket
with the handshake written out, what a connection and a broadcast cost on aiohttp
itself, the floor under any Socket.IO server built on it.
"""
import argparse
import gc
import json
import pathlib
import secrets
import sys
from collections import defaultdict

import socketio
from aiohttp import web

ROOT = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))
from overlay.realtime.sioserver import make_sio_server  # noqa: E402

NS = '/overlay'
KEY, TOKEN = 'k', 't'


def build_app(untuned: bool) -> web.Application:
    sio = (socketio.AsyncServer(async_mode='aiohttp') if untuned
           else make_sio_server())

    @sio.on('connect', namespace=NS)
    async def on_connect(sid, environ, auth):
        if not isinstance(auth, dict) or auth.get('key') != KEY:
            raise socketio.exceptions.ConnectionRefusedError('bad key')
        await sio.enter_room(sid, str(auth.get('channel')), namespace=NS)

    async def broadcast(channel: str, event: dict) -> None:
        await sio.emit('donation', event, room=channel, namespace=NS)

    app = web.Application()
    sio.attach(app)
    app.router.add_post('/api/v1/channels/{ch}/donations', donation_handler(broadcast))
    return app


def build_bare_app() -> web.Application:
    """engine.io v4 / socket.io v5 over aiohttp's WebSocketResponse, written out: the open
    packet, the /overlay namespace ack, no pings; a broadcast sends one text to each socket
    of the room, one after the other."""
    rooms: dict[str, set[web.WebSocketResponse]] = defaultdict(set)

    async def socket(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(compress=False)
        await ws.prepare(request)
        sid = secrets.token_urlsafe(15)
        await ws.send_str('0' + json.dumps({'sid': sid, 'upgrades': [], 'pingInterval': 25000,
                                            'pingTimeout': 20000, 'maxPayload': 1000000}))
        room = None
        try:
            async for msg in ws:
                if room is None and msg.type is web.WSMsgType.TEXT and msg.data.startswith(f'40{NS},'):
                    auth = json.loads(msg.data[len(NS) + 3:] or '{}')
                    if auth.get('key') != KEY:
                        await ws.send_str(f'44{NS},' + json.dumps({'message': 'bad key'}))
                        continue
                    room = rooms[str(auth.get('channel'))]
                    room.add(ws)
                    await ws.send_str(f'40{NS},' + json.dumps({'sid': sid}))
        finally:
            if room is not None:
                room.discard(ws)
        return ws

    async def broadcast(channel: str, event: dict) -> None:
        text = f'42{NS},' + json.dumps(['donation', event])
        for ws in list(rooms.get(channel, ())):
            try:
                await ws.send_str(text)
            except ConnectionResetError:  # it is leaving; its handler takes it out of the room
                pass

    app = web.Application()
    app.router.add_get('/socket.io/', socket)
    app.router.add_post('/api/v1/channels/{ch}/donations', donation_handler(broadcast))
    return app


def donation_handler(broadcast):
    """POST /api/v1/channels/{ch}/donations: the token checked, the sample donation
    numbered and handed to ``await broadcast(channel, event)``, then answered 201."""
    sample = json.loads((ROOT / 'sample_donation.json').read_text('utf-8'))
    seq = 0

    async def post_donation(request: web.Request) -> web.Response:
        nonlocal seq
        if request.headers.get('Authorization') != f'Bearer {TOKEN}':
            return web.json_response({'error': {
                'code': 'unauthorized', 'message': 'bad token'}}, status=401)
        body = await request.json()
        seq += 1
        channel = request.match_info['ch']
        donation = {**sample['donation'], 'seq': seq, 'channel': channel,
                    'amount': str(body.get('amount', '5.00'))}
        await broadcast(channel, {**sample, 'seq': seq, 'donation': donation})
        return web.json_response(donation, status=201)
    return post_donation


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, default=8080)
    which = parser.add_mutually_exclusive_group()
    which.add_argument('--untuned', action='store_true')
    which.add_argument('--bare', action='store_true')
    parser.add_argument('--no-full-gc', action='store_true')
    args = parser.parse_args()
    if args.no_full_gc:
        # experiment: with 10,000 connections a full (gen 2) collection
        # pauses the loop 0.5-1.5 s; this makes automatic ones never happen
        gc.set_threshold(700, 10, 1_000_000)
    # backlog: 10,000 overlays reconnecting at once overflow aiohttp's 128
    app = build_bare_app() if args.bare else build_app(args.untuned)
    web.run_app(app, host=args.host, port=args.port,
                backlog=1024, access_log=None, print=None)


if __name__ == '__main__':
    main()
