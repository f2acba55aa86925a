"""The live server alone in a process, so its CPU time can be read from /proc.

It also counts every frame aiortc encodes and every decoder it creates in this
process: the relay must do neither (its senders only packetise encoded packets).
Prints the port, then serves until killed.
"""

import asyncio
import os
import sys

import aiortc.rtcrtpreceiver
from aiortc.codecs.h264 import H264Encoder
from aiortc.codecs.opus import OpusEncoder
from aiortc.codecs.vpx import Vp8Encoder
from aiohttp import web

from prometheus_client import REGISTRY

from overlay.live.whip import LIVE_HUB, LiveSettings, setup_live
from tests.live.procstat import udp_drops, udp_drops_by_port

CREATED = {"encoders": 0, "decoders": 0}


def _counting(kind: str, call):
    def wrapper(*args, **kwargs):
        CREATED[kind] += 1
        return call(*args, **kwargs)

    return wrapper


# aiortc creates every decoder through rtcrtpreceiver.get_decoder; a sender creates
# an encoder object to packetise, but only its encode() would encode. The real ones still run.
aiortc.rtcrtpreceiver.get_decoder = _counting("decoders", aiortc.rtcrtpreceiver.get_decoder)
for encoder in (H264Encoder, Vp8Encoder, OpusEncoder):
    encoder.encode = _counting("encoders", encoder.encode)


async def codecs_created(_request: web.Request) -> web.Response:
    return web.json_response(CREATED)


def _publisher_drops(hub) -> int:
    publisher = hub.channels["demo"].publisher
    if publisher is None:
        return 0
    ports = {c.port for t in publisher.pc.getTransceivers()
             for c in t.receiver.transport.transport.iceGatherer.getLocalCandidates()}
    return sum(n for port, n in udp_drops_by_port(os.getpid()).items() if port in ports)


async def relay_stats(request: web.Request) -> web.Response:
    """What the relay handed to viewers' senders, to tell server limits from client limits."""
    hub = request.app[LIVE_HUB]
    tracks = [t for c in hub.channels.values() for f in c.fanouts.values() for t in f.viewers]
    return web.json_response({
        "bytes_forwarded": REGISTRY.get_sample_value(
            "overlay_live_bytes_forwarded_total", {"channel": "demo"}) or 0,
        "frames_dropped": sum(t.frames_dropped for t in tracks),
        "udp_drops": udp_drops(os.getpid()),
        "publisher_udp_drops": _publisher_drops(hub),
        "frames_in": hub.channels["demo"].fanouts["video"].frames_in,
        # per viewer, since it joined: mean and worst wait in the relay
        "relay_delay_mean": [t.delay_total / max(t.frames_sent, 1) for t in tracks],
        "relay_delay_max": [t.delay_max for t in tracks],
        "keyframe_requests": REGISTRY.get_sample_value(
            "overlay_live_keyframe_requests_total", {"channel": "demo"}) or 0,
    })


async def main(key: str, max_viewers: int) -> None:
    app = web.Application()
    setup_live(app, {"demo": LiveSettings(stream_key=key, max_viewers=max_viewers)},
               public_url="http://127.0.0.1")
    app.router.add_get("/_test/codecs", codecs_created)
    app.router.add_get("/_test/stats", relay_stats)
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
