"""Donation latency while live viewers join and watch (a viewer storm must not starve donations).

    python bench/live_storm.py [--viewers 60] [--clients 4] [--seconds 20] [--rate 20] [--smoke]

Runs ``server.py`` as a streamer does (the web process and the live process it
supervises), publishes a pre-encoded 720p30 H.264 loop over WHIP, and POSTs
donations at --rate per second, open loop, through three phases: no viewer;
--viewers aiortc viewers joining (live_bench.py's client processes); the same
viewers watching for --seconds. For each phase it prints the latency of
POST -> 201 and POST -> ``donation`` event at one overlay client, and the CPU
of the web and live processes. No pinning: the two server processes go where
the kernel puts them, as they would on a streamer's machine.
"""
from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import socketio  # noqa: E402
import yaml  # noqa: E402
from aiortc import RTCPeerConnection  # noqa: E402

import smoke_mode  # noqa: E402
from bench.live_bench import FPS, GOP, LOOP, client_main  # noqa: E402
from tests.live.media import LoopedPacketTrack, encode_clip  # noqa: E402
from tests.live.peers import codec_preferences, negotiate  # noqa: E402
from tests.live.procstat import cpu_seconds  # noqa: E402
from tests.support import AUTH, OVERLAY_KEY, channel_dict, free_port  # noqa: E402

STREAM_KEY = "bench-stream-key"


class Donations:
    """Open-loop POSTs; each one's 201 time and the time its event reached the overlay."""

    def __init__(self, http: aiohttp.ClientSession, url: str, rate: float) -> None:
        self.http, self.url, self.rate = http, url, rate
        self.sent: dict[str, tuple[float, float]] = {}  # id -> (sent, answered)
        self.events: dict[str, float] = {}
        # GET /live/demo/status: answered from memory, no disk; tells a busy event loop from a slow fsync
        self.probes: list[tuple[float, float]] = []
        self.errors = 0
        self._tasks: set[asyncio.Task] = set()

    async def run(self, stop: asyncio.Event) -> None:
        n = 0
        start = time.monotonic()
        while not stop.is_set():
            for task in (asyncio.create_task(self._one(n)), asyncio.create_task(self._probe())):
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            n += 1
            await asyncio.sleep(max(0.0, start + n / self.rate - time.monotonic()))
        await asyncio.gather(*self._tasks)

    async def _one(self, n: int) -> None:
        sent = time.monotonic()
        try:
            async with self.http.post(f"{self.url}/api/v1/channels/demo/donations", headers=AUTH,
                                      json={"amount": "1.00", "external_id": f"storm-{n}"}) as r:
                body = await r.json()
                if r.status != 201:
                    raise RuntimeError(r.status)
        except Exception:  # noqa: BLE001 - counted and reported, never hidden
            self.errors += 1
            return
        self.sent[body["id"]] = (sent, time.monotonic())

    async def _probe(self) -> None:
        sent = time.monotonic()
        try:
            async with self.http.get(f"{self.url}/live/demo/status") as r:
                await r.read()
        except aiohttp.ClientError:
            return
        self.probes.append((sent, time.monotonic()))

    def on_event(self, data: dict) -> None:
        self.events[data["donation"]["id"]] = time.monotonic()

    def window(self, start: float, end: float) -> tuple[list[float], list[float]]:
        inside = {i: s for i, s in self.sent.items() if start <= s[0] < end}
        answered = [a - s for s, a in inside.values()]
        delivered = [self.events[i] - s for i, (s, _) in inside.items() if i in self.events]
        probed = [a - s for s, a in self.probes if start <= s < end]
        return answered, delivered, probed


def write_config(tmp: Path, port: int) -> Path:
    channel = channel_dict(live={"stream_key": STREAM_KEY, "max_viewers": 1000},
                           alerts={"min_amount": "1000.00"})  # no alert queue work: donations only
    path = tmp / "config.yaml"
    path.write_text(yaml.safe_dump({"server": {"host": "127.0.0.1", "port": port},
                                    "storage": {"data_dir": str(tmp / "data")}, "channels": [channel]}))
    return path


def live_pid(parent: int) -> int | None:
    for entry in Path("/proc").iterdir():
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if ppid == parent and b"overlay.live.process" in (entry / "cmdline").read_bytes():
                return int(entry.name)
        except (OSError, ValueError, IndexError):
            continue
    return None


async def wait_ready(http: aiohttp.ClientSession, url: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            async with http.post(f"{url}/whip/demo", data="v=0\r\n", headers={"Content-Type": "application/sdp"}) as r:
                if r.status == 401:  # the live process answers: it is up
                    return
        except aiohttp.ClientError:
            pass
        if server.poll() is not None:
            raise RuntimeError("server exited")
        await asyncio.sleep(0.2)
    raise RuntimeError("live video did not come up")


def fmt(values: list[float]) -> str:
    if not values:
        return "no samples"
    ordered = sorted(values)
    q = lambda p: ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000  # noqa: E731
    return f"n={len(values)} median {statistics.median(values) * 1000:.1f} ms p95 {q(.95):.1f} ms " \
           f"p99 {q(.99):.1f} ms max {ordered[-1] * 1000:.1f} ms"


async def run(args: argparse.Namespace) -> None:
    print(f"encoding a {LOOP / FPS:.0f} s 720p30 clip (once, before streaming)...; load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores", flush=True)
    clip = encode_clip(LOOP, 1280, 720, 2_500_000, gop=GOP)
    tmp = Path(tempfile.mkdtemp(prefix="live_storm_"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([sys.executable, str(ROOT / "server.py"), "--config", str(write_config(tmp, port))],
                              cwd=ROOT, stdout=open(tmp / "server.log", "wb"), stderr=subprocess.STDOUT)
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
            await wait_ready(http, url, server)
            await _phases(args, http, url, server.pid, clip)
    finally:
        server.terminate()
        server.wait(15)
        print(f"server log: {tmp / 'server.log'}")


def publisher_main(url: str, clip: list[bytes], conn) -> None:
    """The publisher in a process of its own: its sending must not delay the donation client's loop."""
    async def main() -> None:
        async with aiohttp.ClientSession() as http:
            pc = RTCPeerConnection()
            pc.addTransceiver(LoopedPacketTrack(clip, FPS), "sendonly").setCodecPreferences(
                codec_preferences("video", "video/H264"))
            await negotiate(http, f"{url}/whip/demo", pc, STREAM_KEY)
            conn.send("publishing")
            await asyncio.to_thread(conn.recv)
            await pc.close()
    asyncio.run(main())


async def _phases(args, http, url: str, web_pid: int, clip: list[bytes]) -> None:
    pid = live_pid(web_pid)
    mine, theirs = multiprocessing.get_context("spawn").Pipe()
    publisher = multiprocessing.get_context("spawn").Process(target=publisher_main, args=(url, clip, theirs))
    publisher.start()
    await asyncio.to_thread(mine.recv)
    await _until_live(http, url)
    sio = socketio.AsyncClient()
    donations = Donations(http, url, args.rate)
    sio.on("donation", donations.on_event, namespace="/overlay")
    await sio.connect(url, namespaces=["/overlay"], transports=["websocket"],
                      auth={"channel": "demo", "key": OVERLAY_KEY})
    stop = asyncio.Event()
    loop_task = asyncio.create_task(donations.run(stop))
    cpu = lambda: (time.monotonic(), cpu_seconds(web_pid), cpu_seconds(pid))  # noqa: E731
    marks = [("no viewer", cpu())]
    await asyncio.sleep(args.seconds)
    marks.append((f"{args.viewers} viewers joining", cpu()))
    pipes, procs = await asyncio.to_thread(_start_viewers, url, args, clip)
    ready = [await asyncio.to_thread(p.recv) for p in pipes]
    marks.append((f"{sum(r[1] for r in ready)} viewers watching", cpu()))
    window = (time.time() + 1.0, time.time() + 1.0 + args.seconds)
    for p in pipes:
        p.send(window)
    await asyncio.sleep(args.seconds + 1.0)
    marks.append(("end", cpu()))
    async with http.get(f"{url}/live/demo/status") as r:
        print(f"status at the end: {await r.json()}")
    stop.set()
    await loop_task
    results = [await asyncio.to_thread(p.recv) for p in pipes]
    for proc in procs:
        await asyncio.to_thread(proc.join, 30)
    await asyncio.sleep(1.0)  # the last events
    await sio.disconnect()
    mine.send("stop")
    await asyncio.to_thread(publisher.join, 30)
    _report(args, donations, marks, results, ready)


async def _until_live(http: aiohttp.ClientSession, url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        async with http.get(f"{url}/live/demo/status") as r:
            if (await r.json())["live"]:
                return
        await asyncio.sleep(0.2)
    raise RuntimeError("the publisher did not go live")


def _start_viewers(url: str, args, clip: list[bytes]):
    ctx = multiprocessing.get_context("spawn")
    shares = [args.viewers // args.clients + (i < args.viewers % args.clients) for i in range(args.clients)]
    pipes, procs = [], []
    for share in shares:
        mine, theirs = ctx.Pipe()
        proc = ctx.Process(target=client_main, args=(url, share, clip, theirs, set(range(os.cpu_count() or 1))))
        proc.start()
        pipes.append(mine)
        procs.append(proc)
    return pipes, procs


def _report(args, donations: Donations, marks, results, ready) -> None:
    print(f"donations: {args.rate}/s open loop, {donations.errors} failed; "
          f"load average now {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    for (name, (t0, web0, live0)), (_, (t1, web1, live1)) in zip(marks, marks[1:]):
        answered, delivered, probed = donations.window(t0, t1)
        print(f"{name} ({t1 - t0:.1f} s): web process {(web1 - web0) / (t1 - t0):.2f} cores, "
              f"live process {(live1 - live0) / (t1 - t0):.2f} cores")
        print(f"  POST -> 201:           {fmt(answered)}")
        print(f"  POST -> overlay event: {fmt(delivered)}")
        print(f"  GET /live/demo/status: {fmt(probed)}")
    fps = [len(v["arrivals"]) / args.seconds for r in results for v in r["viewers"]]
    errors = [e for r in ready for e in r[2]]
    print(f"viewers: {len(fps)} watching, fps per viewer min {min(fps, default=0):.1f} "
          f"median {statistics.median(fps) if fps else 0:.1f}; viewer processes "
          f"{sum(r['cpu'] for r in results):.2f} cores" + "".join(f"\n  error: {e}" for e in errors[:3]))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--viewers", type=int, default=60)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rate", type=float, default=20.0, help="donations per second (default: %(default)s)")
    asyncio.run(run(smoke_mode.parse(parser, {"viewers": 2, "clients": 1, "seconds": 1.0, "rate": 5.0})))
