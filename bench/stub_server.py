"""Stand-in for our app until it exists: the two endpoints the bench drives.

    python bench/stub_server.py --port 8080 [--untuned] [--no-full-gc]

--untuned builds a stock socketio.AsyncServer (all defaults) instead of
overlay.realtime.fastemit.make_sio_server, to measure what the fast path buys.
"""
import argparse
import gc
import json
import pathlib
import sys

import socketio
from aiohttp import web

ROOT = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))
from overlay.realtime.fastemit import make_sio_server  # noqa: E402

NS = '/overlay'
KEY, TOKEN = 'k', 't'


def build_app(untuned: bool) -> web.Application:
    sio = (socketio.AsyncServer(async_mode='aiohttp') if untuned
           else make_sio_server())
    sample = json.loads((ROOT / 'sample_donation.json').read_text('utf-8'))
    seq = 0

    @sio.on('connect', namespace=NS)
    async def on_connect(sid, environ, auth):
        if not isinstance(auth, dict) or auth.get('key') != KEY:
            raise socketio.exceptions.ConnectionRefusedError('bad key')
        await sio.enter_room(sid, str(auth.get('channel')), namespace=NS)

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
        await sio.emit('donation', {**sample, 'seq': seq,
                                    'donation': donation},
                       room=channel, namespace=NS)
        return web.json_response(donation, status=201)

    app = web.Application()
    sio.attach(app)
    app.router.add_post('/api/v1/channels/{ch}/donations', post_donation)
    return app


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, default=8080)
    parser.add_argument('--untuned', action='store_true')
    parser.add_argument('--no-full-gc', action='store_true')
    args = parser.parse_args()
    if args.no_full_gc:
        # experiment: with 10,000 connections a full (gen 2) collection
        # pauses the loop 0.5-1.5 s; this makes automatic ones never happen
        gc.set_threshold(700, 10, 1_000_000)
    # backlog: 10,000 overlays reconnecting at once overflow aiohttp's 128
    web.run_app(build_app(args.untuned), host=args.host, port=args.port,
                backlog=1024, access_log=None, print=None)


if __name__ == '__main__':
    main()
