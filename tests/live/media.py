"""Synthetic video whose frames say their own number, so a viewer can check order and rate."""

import asyncio
import fractions
import time

import av
from aiortc.mediastreams import MediaStreamTrack

VIDEO_CLOCK = 90000
BITS = 16
BLOCK = 16  # each bit is a 16x16 block in the top rows: survives compression


def draw_frame(number: int, width: int, height: int) -> av.VideoFrame:
    """A yuv420p frame with `number` as a row of black/white blocks and a moving bar."""
    frame = av.VideoFrame(width, height, "yuv420p")
    luma = bytearray(frame.planes[0].line_size * height)
    stride = frame.planes[0].line_size
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
