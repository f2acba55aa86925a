"""WHEP fan-out benchmark: N aiortc viewers of one 720p30 H.264 stream.

    python bench/live_bench.py [--viewers 100] [--clients 4] [--seconds 10] [--smoke]

The server runs alone on core 0; the publisher (this process) and the viewer
processes share core 1, the viewers at nice 10 so that the publisher keeps
its schedule when they saturate the core. (On core 0 beside the server it did
worse: the server's ingest then lost packets.) The publisher loops a clip
encoded once in advance, so it spends no CPU on encoding. Server CPU is read
for the server process alone, from /proc. Each frame's loop index is drawn into its
pixels; frames are sent at t0 + g/30, so a viewer that knows the index knows
when the frame left the publisher.

Two latencies are printed:
  arrival  every viewer: publisher send -> the whole encoded frame out of the
           viewer's jitter buffer (identified by its bytes, no decoding)
  glass    one probe viewer per client process also decodes every frame and
           reads the index from the pixels: send -> decoded picture
"""

import argparse
import asyncio
import json
import multiprocessing
import os
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from aiortc import RTCPeerConnection  # noqa: E402
from aiortc.mediastreams import MediaStreamError  # noqa: E402

import smoke_mode  # noqa: E402
from overlay.adapters.aiortc import tap_receiver  # noqa: E402
from overlay.live.relay import h264_nal_units  # noqa: E402
from tests.live.media import LoopedPacketTrack, encode_clip, read_number  # noqa: E402
from tests.live.peers import codec_preferences, negotiate  # noqa: E402
from tests.live.procstat import cpu_seconds, udp_drops  # noqa: E402

KEY = "bench-key"
FPS, LOOP, GOP = 30, 120, 60  # a 4 s loop with a keyframe every 2 s
SERVER_CORE, CLIENT_CORE = 0, 1


def frame_key(data: bytes) -> int:
    return hash(b"".join(h264_nal_units(data)))


# -- client processes --------------------------------------------------------
def client_main(base: str, count: int, clip: list[bytes], conn, cores: set[int] = frozenset({CLIENT_CORE})) -> None:
    # With --client-cores 0,1 viewers may also use what the server leaves of its core; at
    # nice 10 they never take it from the server, whose CPU is read for its process alone.
    os.sched_setaffinity(0, set(cores))
    os.nice(10)  # the publisher shares this core and must not fall behind
    asyncio.run(_client(base, count, {frame_key(p): i for i, p in enumerate(clip)}, conn))


async def _client(base: str, count: int, keys: dict[int, int], conn) -> None:
    gate = asyncio.Semaphore(4)  # a few handshakes at a time, like viewers trickling in

    async def one(probe: bool):
        async with gate:
            return await _viewer(http, base, keys, probe)

    async with aiohttp.ClientSession() as http:
        made = await asyncio.gather(*(one(i == 0) for i in range(count)), return_exceptions=True)
        viewers = [v for v in made if not isinstance(v, BaseException)]
        errors = [repr(e) for e in made if isinstance(e, BaseException)]
        conn.send(("ready", len(viewers), errors[:3]))
        start, end = conn.recv()
        await asyncio.sleep(max(0.0, start - time.time()))
        cpu0, drops0 = time.process_time(), udp_drops(os.getpid())
        await asyncio.sleep(max(0.0, end - time.time()))
        cpu = (time.process_time() - cpu0) / (end - start)
        conn.send({"cpu": cpu, "udp_drops": udp_drops(os.getpid()) - drops0, "viewers": [
            {"arrivals": [a for a in v["arrivals"] if start <= a[0] < end],
             "decoded": [d for d in v["decoded"] if start <= d[0] < end]}
            for v in viewers]})
        await asyncio.gather(*(v["pc"].close() for v in viewers))


async def _viewer(http, base: str, keys: dict[int, int], probe: bool) -> dict:
    pc = RTCPeerConnection()
    transceiver = pc.addTransceiver("video", "recvonly")
    state = {"pc": pc, "arrivals": [], "decoded": []}

    def on_frame(codec, data, timestamp):
        state["arrivals"].append((time.time(), keys.get(frame_key(data), -1)))

    tap_receiver(transceiver.receiver, on_frame, decode=probe)
    tracks = []
    pc.on("track", tracks.append)
    await negotiate(http, f"{base}/whep/demo", pc, None)
    if probe:
        state["task"] = asyncio.ensure_future(_decode(tracks[0], state["decoded"]))
    return state


async def _decode(track, decoded: list) -> None:
    try:
        while True:
            frame = await track.recv()
            decoded.append((time.time(), read_number(frame)))
    except MediaStreamError:
        pass


# -- GStreamer viewers (bench/gst_viewers.py, under Debian's /usr/bin/python3) --
class GstClient:
    """One gst_viewers.py process, with the same recv/send/join as a Pipe + Process pair."""

    def __init__(self, base: str, count: int, clip_path: str, probes: int, cores: set[int], latency: int):
        self.proc = subprocess.Popen(
            [args_gst_python(), str(ROOT / "bench" / "gst_viewers.py"), "--url", f"{base}/whep/demo",
             "--count", str(count), "--clip", clip_path, "--probes", str(probes),
             "--latency", str(latency)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            # same placement as the aiortc viewers: client core(s), below the publisher
            preexec_fn=lambda: (os.sched_setaffinity(0, cores), os.nice(10)))

    def recv(self):
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"gst_viewers.py exited with {self.proc.wait()}")
        message = json.loads(line)
        return ("ready", message["ready"], message["errors"]) if "ready" in message else message

    def send(self, window: tuple[float, float]) -> None:
        self.proc.stdin.write(json.dumps({"start": window[0], "end": window[1]}) + "\n")
        self.proc.stdin.flush()

    def join(self, timeout: float) -> None:
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def args_gst_python() -> str:
    # PyGObject and GStreamer's introspection data come from Debian, not our venv
    return os.environ.get("GST_PYTHON", "/usr/bin/python3")


def gst_missing() -> str | None:
    """Why GStreamer viewers cannot run here, or None."""
    check = "import gi; [gi.require_version(n, '1.0') for n in ('Gst', 'GstWebRTC', 'GstSdp')]"
    try:
        run = subprocess.run([args_gst_python(), "-c", check], capture_output=True, text=True, timeout=60)
    except OSError as exc:
        return f"{args_gst_python()}: {exc}"
    return None if run.returncode == 0 else (run.stderr.strip().splitlines() or ["failed"])[-1]


def gst_clients(base: str, shares: list[int], clip: list[bytes], cores: set[int], args) -> list[GstClient]:
    # the viewers identify frames by content, so they need the clip the publisher loops
    clip_path = os.path.join(tempfile.mkdtemp(prefix="live_bench_"), "clip.bin")
    with open(clip_path, "wb") as f:
        for packet in clip:
            f.write(struct.pack(">I", len(packet)) + packet)
    # probes decode 720p30 in software (~0.1 core each): only the first few viewers
    probes = [min(share, max(0, args.probes - sum(shares[:i]))) for i, share in enumerate(shares)]
    return [GstClient(base, share, clip_path, p, cores, args.gst_latency) for share, p in zip(shares, probes)]


# -- orchestrator ------------------------------------------------------------
def latency(t0: float, samples: list[tuple[float, int]]) -> list[float]:
    """Send time of the latest frame g with g % LOOP == index sent before `when`."""
    out = []
    for when, index in samples:
        if index < 0:
            continue
        g = int((when - t0) * FPS)
        g -= (g - index) % LOOP
        out.append(when - (t0 + g / FPS))
    return out



def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


async def run(args) -> None:
    os.sched_setaffinity(0, {CLIENT_CORE})
    print(f"encoding a {LOOP / FPS:.0f} s 720p30 clip at 2.5 Mbit/s (once, before streaming)...")
    clip = encode_clip(LOOP, 1280, 720, 2_500_000, gop=GOP)
    assert len(clip) == LOOP, "expected one packet per frame"
    mbps = sum(map(len, clip)) * 8 / (LOOP / FPS) / 1e6
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.live.server_proc", KEY, str(args.viewers)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
        preexec_fn=lambda: os.sched_setaffinity(0, {SERVER_CORE}))
    try:
        base = f"http://127.0.0.1:{server.stdout.readline().strip()}"
        await _bench(args, base, server.pid, clip, mbps)
    finally:
        server.terminate()
        server.wait(10)
        server.stdout.close()


async def _bench(args, base: str, server_pid: int, clip: list[bytes], mbps: float) -> None:
    async with aiohttp.ClientSession() as http:
        pc = RTCPeerConnection()
        track = LoopedPacketTrack(clip, FPS)
        pc.addTransceiver(track, "sendonly").setCodecPreferences(codec_preferences("video", "video/H264"))
        await negotiate(http, f"{base}/whip/demo", pc, KEY)
        while pc.connectionState != "connected":
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)
        shares = [args.viewers // args.clients + (i < args.viewers % args.clients) for i in range(args.clients)]
        cores = {int(c) for c in args.client_cores.split(",")}
        connect_started = time.time()
        if args.viewer_impl == "gst":
            pipes = procs = gst_clients(base, shares, clip, cores, args)
        else:
            ctx = multiprocessing.get_context("spawn")
            pipes, procs = [], []
            for share in shares:
                mine, theirs = ctx.Pipe()
                proc = ctx.Process(target=client_main, args=(base, share, clip, theirs, cores))
                proc.start()
                pipes.append(mine)
                procs.append(proc)
        ready = [await asyncio.to_thread(p.recv) for p in pipes]
        connected = sum(r[1] for r in ready)
        print(f"{connected}/{args.viewers} viewers negotiated (client processes started and WHEP answered) in {time.time() - connect_started:.1f} s"
              + "".join(f"\n  error: {e}" for r in ready for e in r[2]))
        start = time.time() + 3.0  # let every viewer reach its first keyframe
        end = start + args.seconds
        for p in pipes:
            p.send((start, end))
        await asyncio.sleep(max(0.0, start - time.time()))
        cpu0, stats0, sent0 = cpu_seconds(server_pid), await _stats(http, base), track.sent
        busy0 = core_busy()
        await asyncio.sleep(max(0.0, end - time.time()))
        server_cores = (cpu_seconds(server_pid) - cpu0) / (end - start)
        busy = {c: (b - busy0[c][0]) / max(t - busy0[c][1], 1) for c, (b, t) in core_busy().items()}
        stats = await _stats(http, base)
        stats["publisher_sent"] = track.sent - sent0
        stats["core_busy"] = busy
        stats.update({k: stats[k] - v for k, v in stats0.items() if not isinstance(v, list)})
        results = [await asyncio.to_thread(p.recv) for p in pipes]
        for proc in procs:
            await asyncio.to_thread(proc.join, 30)
        await pc.close()
    report(args, results, track.start, server_cores, mbps, connected, stats)


def core_busy() -> dict[int, tuple[int, int]]:
    """(busy, total) jiffies per core from /proc/stat: is the client core itself saturated?"""
    out = {}
    with open("/proc/stat") as f:
        for line in f:
            name, *fields = line.split()
            if name.startswith("cpu") and name[3:].isdigit():
                values = [int(v) for v in fields]
                idle = values[3] + values[4]  # idle + iowait
                out[int(name[3:])] = (sum(values[:8]) - idle, sum(values[:8]))
    return out


async def _stats(http, base: str) -> dict:
    async with http.get(f"{base}/_test/stats") as response:
        return await response.json()


def report(args, results, t0, server_cores, mbps, connected, stats) -> None:
    viewers = [v for r in results for v in r["viewers"]]
    fps = [len(v["arrivals"]) / args.seconds for v in viewers]
    arrival = [x for v in viewers for x in latency(t0, v["arrivals"])]
    glass = [x for v in viewers for x in latency(t0, v["decoded"])]
    probe_fps = [len(v["decoded"]) / args.seconds for v in viewers if v["decoded"]]
    ms = lambda s: f"{s * 1000:.0f} ms"  # noqa: E731
    print(f"stream: 1280x720 30 fps H.264, clip {mbps:.2f} Mbit/s, {connected} viewers, "
          f"{args.clients} {args.viewer_impl} client processes on core(s) {args.client_cores}, server on core {SERVER_CORE}")
    print(f"per-viewer fps (frames received, {args.seconds} s window): "
          f"min {min(fps, default=0):.1f} median {statistics.median(fps) if fps else 0:.1f}")
    print(f"probe viewers decoded fps: {', '.join(f'{f:.1f}' for f in probe_fps)}")
    print(f"server CPU: {server_cores:.2f} cores")
    sent = stats["bytes_forwarded"] * 8 / args.seconds / max(connected, 1) / 1e6
    print(f"publisher sent {stats['publisher_sent'] / args.seconds:.1f} fps; "
          f"server input: {stats['frames_in'] / args.seconds:.1f} fps from the publisher; relay delay "
          f"(publisher frame complete -> taken by a viewer's sender) per viewer since joining: "
          f"mean of means {ms(statistics.fmean(stats['relay_delay_mean']))}, "
          f"worst {ms(max(stats['relay_delay_max']))}")
    print(f"server output: {sent:.2f} Mbit/s per viewer handed to senders (stream {mbps:.2f}); "
          f"{stats['frames_dropped']:.0f} frames dropped for lagging viewers, "
          f"{stats['keyframe_requests']:.0f} keyframe requests, "
          f"{stats['udp_drops']:.0f} UDP packets dropped by full server socket buffers in the window "
          f"({stats['publisher_udp_drops']:.0f} of them from the publisher)")
    client_cpu = [r["cpu"] for r in results]
    print(f"client CPU: {', '.join(f'{c:.2f}' for c in client_cpu)} cores per process "
          f"(total {sum(client_cpu):.2f}, on core(s) {args.client_cores}); "
          f"{sum(r['udp_drops'] for r in results)} UDP packets dropped by full client socket buffers")
    print("whole cores busy (every process, from /proc/stat): "
          + ", ".join(f"core {c} {b:.0%}" for c, b in sorted(stats["core_busy"].items())))
    unknown = sum(1 for v in viewers for _, index in v["arrivals"] if index < 0)
    print(f"arrival latency (all viewers): median {ms(pct(arrival, .5))} p95 {ms(pct(arrival, .95))} "
          f"({unknown} received frames not identified as a clip frame)")
    print(f"glass-to-glass (probe viewers, decoded): median {ms(pct(glass, .5))} p95 {ms(pct(glass, .95))}")
    print(f"targets: every viewer >= 29 fps: {'met' if fps and min(fps) >= 29 else 'MISSED'}; "
          f"server <= 1 core: {'met' if server_cores <= 1 else 'MISSED'}; "
          f"median glass-to-glass <= 150 ms: {'met' if glass and pct(glass, .5) <= .15 else 'MISSED'}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--viewers", type=int, default=100)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--client-cores", default=str(CLIENT_CORE),
                        help="cores for the viewer processes, e.g. 0,1 (default: %(default)s)")
    parser.add_argument("--viewer-impl", choices=("aiortc", "gst"), default="aiortc",
                        help="aiortc viewers, or GStreamer webrtcbin viewers (bench/gst_viewers.py, "
                             "needs Debian's GStreamer packages, see bench/README.md)")
    parser.add_argument("--probes", type=int, default=1,
                        help="gst only: viewers that also decode, for glass-to-glass (default: %(default)s)")
    parser.add_argument("--gst-latency", type=int, default=50,
                        help="gst only: webrtcbin jitterbuffer latency in ms (default: %(default)s)")
    args = smoke_mode.parse(parser, {"viewers": 2, "clients": 1, "seconds": 1.0})
    asyncio.run(run(args))
    if args.smoke and args.viewer_impl == "aiortc":  # the GStreamer viewers too, where they can run
        if (why := gst_missing()) is None:
            args.viewer_impl = "gst"
            asyncio.run(run(args))
        else:  # Debian packages of the benchmark only (bench/README.md), not installed by the tests
            smoke_mode.skipped("--viewer-impl gst (bench/gst_viewers.py)", why, ci_installs=False)
