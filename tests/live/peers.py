"""Real aiortc peers speaking WHIP/WHEP to the server over HTTP."""

import asyncio
import time
from dataclasses import dataclass, field

import aiohttp
from aiortc import RTCPeerConnection, RTCRtpSender, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack, MediaStreamError, MediaStreamTrack

from overlay.adapters.aiortc import tap_receiver
from overlay.live.relay import is_keyframe
from tests.live.media import CountingVideoTrack, read_number

SDP = "application/sdp"


def codec_preferences(kind: str, mime: str):
    caps = RTCRtpSender.getCapabilities(kind).codecs
    chosen = [c for c in caps if c.mimeType.lower() == mime.lower()]
    if mime.lower() == "video/h264":  # what OBS sends: constrained baseline
        chosen = [c for c in chosen if c.parameters.get("profile-level-id") == "42e01f"]
    return chosen + [c for c in caps if c.mimeType.lower() == "video/rtx"]


@dataclass
class Peer:
    pc: RTCPeerConnection
    location: str
    etag: str
    answer: str


async def negotiate(http: aiohttp.ClientSession, url: str, pc: RTCPeerConnection, key: str | None) -> Peer:
    await pc.setLocalDescription(await pc.createOffer())
    headers = {"Content-Type": SDP}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    async with http.post(url, data=pc.localDescription.sdp, headers=headers) as response:
        body = await response.text()
        if response.status != 201:
            await pc.close()
            raise AssertionError(f"POST {url}: {response.status} {body}")
        await pc.setRemoteDescription(RTCSessionDescription(body, "answer"))
        return Peer(pc, response.headers["Location"], response.headers["ETag"], body)


async def publish(http, base: str, ch: str, key: str, codec="video/H264", first=0) -> Peer:
    pc = RTCPeerConnection()
    video = pc.addTransceiver(CountingVideoTrack(first=first), "sendonly")
    video.setCodecPreferences(codec_preferences("video", codec))
    pc.addTransceiver(AudioStreamTrack(), "sendonly")
    return await negotiate(http, f"{base}/whip/{ch}", pc, key)


@dataclass
class Viewer:
    peer: Peer
    frames: list[tuple[float, int, bool]] = field(default_factory=list)  # (time, number, key)
    # (time, keyframe) of each encoded frame as it left the jitter buffer, before decoding:
    # libvpx does not flag decoded VP8 keyframes, so this is how a test tells
    received: list[tuple[float, bool]] = field(default_factory=list)
    audio_frames: int = 0
    tasks: list[asyncio.Task] = field(default_factory=list)

    def fps(self, since: float) -> float:
        times = [t for t, _, _ in self.frames if t >= since]
        return (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await self.peer.pc.close()


async def watch(http, base: str, ch: str) -> Viewer:
    pc = RTCPeerConnection()
    pc.addTransceiver("video", "recvonly")
    pc.addTransceiver("audio", "recvonly")
    viewer: Viewer | None = None
    tracks: list[MediaStreamTrack] = []
    pc.on("track", tracks.append)
    received: list[tuple[float, bool]] = []

    def on_encoded(codec, data, timestamp):
        received.append((time.monotonic(), is_keyframe(codec.mimeType.lower(), data)))

    for transceiver in pc.getTransceivers():
        if transceiver.kind == "video":
            tap_receiver(transceiver.receiver, on_encoded, decode=True)
    viewer = Viewer(await negotiate(http, f"{base}/whep/{ch}", pc, None), received=received)
    for track in tracks:
        viewer.tasks.append(asyncio.ensure_future(_consume(viewer, track)))
    return viewer


async def _consume(viewer: Viewer, track: MediaStreamTrack) -> None:
    try:
        while True:
            frame = await track.recv()
            if track.kind == "video":
                viewer.frames.append((time.monotonic(), read_number(frame), bool(frame.key_frame)))
            else:
                viewer.audio_frames += 1
    except MediaStreamError:
        pass
