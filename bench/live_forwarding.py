"""What forwarding costs, against transcoding, and how soon a late viewer starts.

    python bench/live_forwarding.py [--viewers 3] [--seconds 3] [--smoke]

These were test assertions until CI ran on slower machines; the tests keep the
functional half (no codec created, every viewer keeps getting frames, a late
viewer starts on a keyframe) and this prints the figures with their targets:

  forwarding  the live server alone in a process (tests/live/server_proc.py)
              relays a looped 720p30 H.264 clip to N aiortc viewers; its CPU
              (from /proc) per viewer against what aiortc would spend to decode
              and re-encode the clip once. Target: < 25 % of that; >= 25 fps.
  late viewer a publisher (aiortc, encoding live) and one viewer; a second
              viewer joins 1.5 s in: time to its first keyframe. Target < 1 s;
              both viewers >= 27 fps.
"""

import argparse
import asyncio
import fractions
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import av  # noqa: E402
from aiohttp import web  # noqa: E402
from aiortc import RTCPeerConnection  # noqa: E402
from aiortc.codecs import H264Encoder  # noqa: E402

import smoke_mode  # noqa: E402
from overlay.live.whip import LIVE_HUB, LiveSettings, setup_live  # noqa: E402
from tests.live.media import LoopedPacketTrack, encode_clip  # noqa: E402
from tests.live.peers import codec_preferences, negotiate, publish, watch  # noqa: E402
from tests.live.procstat import cpu_seconds  # noqa: E402

KEY = "bench-key"


def transcode_cost(clip: list[bytes]) -> float:
    """CPU seconds aiortc would spend to decode the clip and re-encode it once."""
    started = time.process_time()
    decoder, encoder = av.CodecContext.create("h264", "r"), H264Encoder()
    for index, data in enumerate(clip):
        for frame in decoder.decode(av.Packet(data)):
            frame.pts, frame.time_base = index * 3000, fractions.Fraction(1, 90000)
            encoder.encode(frame)
    return time.process_time() - started


async def until(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit("timed out")
        await asyncio.sleep(0.05)


async def watch_when_live(http, base):
    for _ in range(600):
        try:
            return await watch(http, base, "demo")
        except AssertionError as exc:
            if "stream_offline" not in str(exc):
                raise
            await asyncio.sleep(0.1)
    raise SystemExit("the stream never went live")


async def forwarding(n_viewers: int, seconds: float) -> None:
    clip = encode_clip(60, 1280, 720, 2_500_000, gop=30)  # 2 s of 720p30
    per_stream = transcode_cost(clip) / 2.0
    server = subprocess.Popen([sys.executable, "-m", "tests.live.server_proc", KEY],
                              cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        base = f"http://127.0.0.1:{server.stdout.readline().strip()}"
        async with aiohttp.ClientSession() as http:
            pc = RTCPeerConnection()
            transceiver = pc.addTransceiver(LoopedPacketTrack(clip), "sendonly")
            transceiver.setCodecPreferences(codec_preferences("video", "video/H264"))
            pub = await negotiate(http, f"{base}/whip/demo", pc, KEY)
            viewers = [await watch_when_live(http, base) for _ in range(n_viewers)]
            await until(lambda: all(v.frames for v in viewers))
            await asyncio.sleep(0.5)
            cpu_before, t_before = cpu_seconds(server.pid), time.monotonic()
            frames_before = [len(v.frames) for v in viewers]
            await asyncio.sleep(seconds)
            elapsed = time.monotonic() - t_before
            cores = (cpu_seconds(server.pid) - cpu_before) / elapsed
            fps = [(len(v.frames) - b) / elapsed for v, b in zip(viewers, frames_before)]
            for viewer in viewers:
                await viewer.close()
            await pub.pc.close()
    finally:
        server.terminate()
        server.wait(10)
        server.stdout.close()
    per_viewer = cores / n_viewers
    print(f"forwarding: server {cores:.3f} cores for {n_viewers} viewers = {per_viewer:.3f} per viewer; "
          f"transcoding would cost {per_stream:.3f} cores per stream ({per_viewer / per_stream:.0%} of it); "
          f"viewer fps min {min(fps):.1f}")
    print(f"  targets: < 25 % of transcoding: {'met' if per_viewer < 0.25 * per_stream else 'MISSED'}; "
          f">= 25 fps: {'met' if min(fps) >= 25 else 'MISSED'}")


async def late_viewer() -> None:
    app = web.Application()
    setup_live(app, {"demo": LiveSettings(stream_key=KEY)}, public_url="http://127.0.0.1", ice_servers=[])
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        async with aiohttp.ClientSession() as http:
            pub = await publish(http, base, "demo", KEY)
            await until(lambda: app[LIVE_HUB].status("demo")["live"])
            early = await watch(http, base, "demo")
            await asyncio.sleep(1.5)
            joined = time.monotonic()
            late = await watch(http, base, "demo")
            await asyncio.sleep(2.5)
            wait = late.received[0][0] - joined if late.received else float("inf")
            fps = [v.fps(time.monotonic() - 2.0) for v in (early, late)]
            for viewer in (early, late):
                await viewer.close()
            await pub.pc.close()
    finally:
        await runner.cleanup()
    print(f"late viewer: first keyframe {wait * 1000:.0f} ms after joining; fps {fps[0]:.1f} / {fps[1]:.1f}")
    print(f"  targets: < 1 s: {'met' if wait < 1.0 else 'MISSED'}; "
          f">= 27 fps: {'met' if min(fps) >= 27 else 'MISSED'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--viewers", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = smoke_mode.parse(parser, {"viewers": 1, "seconds": 1.0})
    asyncio.run(forwarding(args.viewers, args.seconds))
    asyncio.run(late_viewer())


if __name__ == "__main__":
    main()
