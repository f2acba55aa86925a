"""The floor for bench/intake.py: a bare aiohttp handler on the donations route.

    python bench/bare_intake.py --port 8080

It checks the Bearer token, parses the same JSON body, and answers 201 with a
small JSON body: no validation, no storage, no Socket.IO. Whatever our server
does beyond this is what intake.py's ours/bare ratio measures.
"""
import argparse
import itertools

from aiohttp import web

TOKEN = 'bench-moderator-token'


def build_app() -> web.Application:
    seq = itertools.count(1)

    async def post_donation(request: web.Request) -> web.Response:
        if request.headers.get('Authorization') != f'Bearer {TOKEN}':
            return web.json_response({'error': {
                'code': 'unauthorized', 'message': 'bad token'}}, status=401)
        body = await request.json()
        return web.json_response(
            {'id': f'd_bare{next(seq)}', 'seq': 0,
             'amount': str(body.get('amount')),
             'external_id': body.get('external_id')}, status=201)

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({'status': 'ok', 'backend': 'bare'})

    app = web.Application()
    app.router.add_post('/api/v1/channels/{ch}/donations', post_donation)
    app.router.add_get('/healthz', healthz)
    return app


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, default=8080)
    args = parser.parse_args()
    web.run_app(build_app(), host=args.host, port=args.port, backlog=4096,
                access_log=None, print=None)


if __name__ == '__main__':
    main()
