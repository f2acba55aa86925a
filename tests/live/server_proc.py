"""The live server alone in a process, so its CPU time can be read from /proc.

It also counts every codec aiortc instantiates in this process: the relay must
create neither encoders nor decoders. Prints the port, then serves until killed.
"""

import asyncio
import sys

import aiortc.rtcrtpreceiver
import aiortc.rtcrtpsender
from aiohttp import web

from overlay.live import LiveSettings, setup_live

CREATED = {"encoders": 0, "decoders": 0}


def _counting(kind: str, create):
    def wrapper(codec):
        CREATED[kind] += 1
        return create(codec)

    return wrapper


# aiortc creates every encoder through rtcrtpsender.get_encoder and every
# decoder through rtcrtpreceiver.get_decoder; the real functions still run.
aiortc.rtcrtpsender.get_encoder = _counting("encoders", aiortc.rtcrtpsender.get_encoder)
aiortc.rtcrtpreceiver.get_decoder = _counting("decoders", aiortc.rtcrtpreceiver.get_decoder)


async def codecs_created(_request: web.Request) -> web.Response:
    return web.json_response(CREATED)


async def main(key: str, max_viewers: int) -> None:
    app = web.Application()
    setup_live(app, {"demo": LiveSettings(stream_key=key, max_viewers=max_viewers)},
               public_url="http://127.0.0.1")
    app.router.add_get("/_test/codecs", codecs_created)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(site._server.sockets[0].getsockname()[1], flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 100))
