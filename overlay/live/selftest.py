"""Does relay.py still work with the installed aiortc? Asked by running it, not by reading source.

Run once when the live process starts: one sender and one receiver connected
over loopback, set up exactly as the relay sets up a viewer and a publisher.
Every private access in relay.py is on this path. A failure names the step,
and the live process then disables live video instead of failing on a stream.
"""
from __future__ import annotations

import asyncio
import fractions
import os

import av
from aiortc import RTCPeerConnection, RTCRtpSender
from aiortc.mediastreams import MediaStreamTrack

from overlay.adapters import aiortc as aiortc_adapter
from overlay.live import relay as live_relay

TIMEOUT_S = 20.0  # a loopback connection takes well under a second; CI machines are slower
FPS = 30


class LiveSelfTestFailed(RuntimeError):
    pass


def sample_frames() -> list[bytes]:
    """H.264 access units (SPS, PPS, a keyframe bigger than one RTP packet, delta frames).

    Never decoded, so random payloads do; 00 00 is kept out so no start code appears inside.
    """
    def nal(header: int, size: int) -> bytes:
        return bytes([header]) + bytes(b | 0x80 for b in os.urandom(size))

    key = live_relay.ANNEX_B.join([b"", nal(0x67, 12), nal(0x68, 4), nal(0x65, 3000)])
    return [key, *(live_relay.ANNEX_B + nal(0x41, 400 + i) for i in range(FPS - 1))]


class _PacketTrack(MediaStreamTrack):
    """Sends the sample frames as encoded packets, in a loop, as a ViewerTrack does."""

    kind = "video"

    def __init__(self, frames: list[bytes]) -> None:
        super().__init__()
        self.frames, self.sent = frames, 0

    async def recv(self) -> av.Packet:
        await asyncio.sleep(1 / FPS)
        packet = av.Packet(self.frames[self.sent % len(self.frames)])
        packet.pts, packet.time_base = self.sent * 3000, fractions.Fraction(1, 90000)
        self.sent += 1
        return packet


async def run_self_test(timeout: float = TIMEOUT_S) -> None:
    """Raise LiveSelfTestFailed naming what no longer works."""
    sender_pc, receiver_pc = RTCPeerConnection(), RTCPeerConnection()
    try:
        await asyncio.wait_for(_exercise(sender_pc, receiver_pc, timeout / 2), timeout)
    except LiveSelfTestFailed:
        raise
    except TimeoutError as exc:
        raise LiveSelfTestFailed(f"the loopback connection did not work within {timeout:.0f} s") from exc
    except Exception as exc:  # an AttributeError here is an aiortc internal that moved
        raise LiveSelfTestFailed(f"{type(exc).__name__}: {exc}") from exc
    finally:
        await sender_pc.close()
        await receiver_pc.close()


async def _exercise(sender_pc: RTCPeerConnection, receiver_pc: RTCPeerConnection, wait: float) -> None:
    frames = sample_frames()
    received: list[bytes] = []
    keyframe_asked = asyncio.Event()
    got_frames = asyncio.Event()

    def on_frame(codec, data: bytes, timestamp: int) -> None:
        received.append(data)
        if len(received) >= 3:
            got_frames.set()

    transceiver = receiver_pc.addTransceiver("video", "recvonly")
    aiortc_adapter.tap_receiver(transceiver.receiver, on_frame)
    outgoing = sender_pc.addTransceiver(_PacketTrack(frames), "sendonly")
    h264 = [c for c in RTCRtpSender.getCapabilities("video").codecs if c.mimeType.lower() == "video/h264"]
    outgoing.setCodecPreferences(h264)
    aiortc_adapter.attach_sender(outgoing.sender, keyframe_asked.set)
    await sender_pc.setLocalDescription(await sender_pc.createOffer())
    await receiver_pc.setRemoteDescription(sender_pc.localDescription)
    await receiver_pc.setLocalDescription(await receiver_pc.createAnswer())
    await sender_pc.setRemoteDescription(receiver_pc.localDescription)
    aiortc_adapter.enlarge_receive_buffers(receiver_pc)
    await _step(got_frames.wait(), wait, "the receiver tap got no frame (RTCRtpReceiver jitter buffer or decoder queue)")
    sent = {bytes(live_relay.ANNEX_B.join([b"", *live_relay.h264_nal_units(f)])) for f in frames}
    whole = [f for f in received if live_relay.ANNEX_B.join([b"", *live_relay.h264_nal_units(f)]) in sent]
    if not whole:
        raise LiveSelfTestFailed("frames arrived through the tap, but not as they were sent")
    await aiortc_adapter.request_keyframe(transceiver.receiver)
    await _step(keyframe_asked.wait(), wait, "a PLI did not reach the sender's keyframe hook (RTCRtpSender._send_keyframe)")


async def _step(awaitable, wait: float, what: str) -> None:
    try:
        await asyncio.wait_for(awaitable, wait)
    except TimeoutError as exc:
        raise LiveSelfTestFailed(what) from exc
