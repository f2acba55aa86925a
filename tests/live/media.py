"""Synthetic video whose frames say their own number, so a viewer can check order and rate."""

import asyncio
import fractions
import functools
import random
import time

import av
from aiortc.mediastreams import MediaStreamTrack

VIDEO_CLOCK = 90000
BITS = 16
BLOCK = 16  # each bit is a 16x16 block in the top rows: survives compression


@functools.cache
def _texture(size: int) -> bytes:
    # mid-grey noise: costs an encoder real work (like a camera picture does)
    # while the black/white number blocks stay readable after compression
    noise = random.Random(7).randbytes(size + 4096)
    return noise.translate(bytes(64 + b // 2 for b in range(256)))


def draw_frame(number: int, width: int, height: int) -> av.VideoFrame:
    """A yuv420p frame: `number` as a row of black/white blocks over moving noise."""
    frame = av.VideoFrame(width, height, "yuv420p")
    stride = frame.planes[0].line_size
    shift = (number * 8) % 4096  # the noise drifts, so motion search has work too
    luma = bytearray(_texture(stride * height)[shift : shift + stride * height])
    bar = (number * 8) % width  # motion, so the encoder has work like a real picture
    for y in range(height):
        row = y * stride
        luma[row + bar : row + min(bar + 24, width)] = b"\xc8" * (min(bar + 24, width) - bar)
    for bit in range(BITS):
        value = 235 if number >> bit & 1 else 16
        for y in range(BLOCK):
            start = y * stride + bit * BLOCK
            luma[start : start + BLOCK] = bytes([value]) * BLOCK
    frame.planes[0].update(bytes(luma))
    for plane in frame.planes[1:]:
        plane.update(b"\x80" * (plane.line_size * plane.height))
    return frame


def read_number(frame: av.VideoFrame) -> int:
    plane = frame.planes[0]
    data, stride = bytes(plane), plane.line_size
    number = 0
    for bit in range(BITS):
        y, x = BLOCK // 2, bit * BLOCK + BLOCK // 2
        if data[y * stride + x] > 128:
            number |= 1 << bit
    return number


class CountingVideoTrack(MediaStreamTrack):
    """Raw frames at a steady rate; the publisher's aiortc sender encodes them."""

    kind = "video"

    def __init__(self, width=320, height=240, fps=30, first=0) -> None:
        super().__init__()
        self.width, self.height, self.fps = width, height, fps
        self.number = first
        self._start: float | None = None
        self._sent = 0

    async def recv(self) -> av.VideoFrame:
        if self._start is None:
            self._start = time.monotonic()
        due = self._start + self._sent / self.fps
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        frame = draw_frame(self.number, self.width, self.height)
        frame.pts = self._sent * (VIDEO_CLOCK // self.fps)
        frame.time_base = fractions.Fraction(1, VIDEO_CLOCK)
        self.number += 1
        self._sent += 1
        return frame


def encode_clip(frames: int, width: int, height: int, bitrate: int, gop: int, first=0) -> list[bytes]:
    """Encode a clip once (H.264 constrained baseline, as OBS sends) to be looped later."""
    codec = av.CodecContext.create("libx264", "w")
    codec.width, codec.height, codec.pix_fmt = width, height, "yuv420p"
    codec.bit_rate = bitrate
    codec.framerate = fractions.Fraction(30, 1)
    codec.time_base = fractions.Fraction(1, 30)
    codec.gop_size = gop
    codec.options = {"tune": "zerolatency", "preset": "veryfast", "level": "31",
                     "keyint": str(gop), "min-keyint": str(gop), "scenecut": "0"}
    codec.profile = "Baseline"
    packets = []
    for index in range(frames):
        frame = draw_frame(first + index, width, height)
        frame.pts = index
        packets += [bytes(p) for p in codec.encode(frame)]
    packets += [bytes(p) for p in codec.encode(None)]
    return packets


class LoopedPacketTrack(MediaStreamTrack):
    """Sends pre-encoded packets in a loop at a steady rate: no encoding while streaming.

    `sent_at[n]` is the wall-clock time frame n was handed to the sender, for latency.
    """

    kind = "video"

    def __init__(self, packets: list[bytes], fps=30) -> None:
        super().__init__()
        self.packets, self.fps = packets, fps
        self.start: float | None = None  # time.time() of frame 0
        self.sent = 0

    async def recv(self) -> av.Packet:
        if self.start is None:
            self.start = time.time()
        due = self.start + self.sent / self.fps
        await asyncio.sleep(max(0.0, due - time.time()))
        packet = av.Packet(self.packets[self.sent % len(self.packets)])
        packet.pts = self.sent * (VIDEO_CLOCK // self.fps)
        packet.time_base = fractions.Fraction(1, VIDEO_CLOCK)
        self.sent += 1
        return packet
