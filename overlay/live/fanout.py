"""Fan one publisher's encoded frames out to many viewers, one bounded queue each.

No aiortc internals here: frames arrive from relay.py's tap and leave through
ViewerTrack.recv() as encoded av.Packets, which aiortc's sender sends as they are.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

import av
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.rtcrtpparameters import RTCRtpCodecParameters

from overlay.live.relay import EncodedFrame, FrameShaper

log = logging.getLogger(__name__)

# About two seconds of media: a viewer further behind than that is not watching
# live any more; it skips to the next keyframe instead.
QUEUE_FRAMES = {"video": 60, "audio": 100}


class ViewerTrack(MediaStreamTrack):
    """What one viewer's sender reads: the shared packets, never copied or re-encoded."""

    def __init__(self, kind: str, on_sent: Callable[[int], None] = lambda size: None) -> None:
        super().__init__()
        self.kind = kind
        self._on_sent = on_sent
        self._queue: asyncio.Queue[EncodedFrame | None] = asyncio.Queue(QUEUE_FRAMES[kind])
        # a video decoder can only start on a keyframe; audio frames stand alone
        self.needs_keyframe = kind == "video"
        self.frames_dropped = 0
        self.delay_total = self.delay_max = 0.0  # publisher receiver -> this viewer's sender
        self.frames_sent = 0

    def offer(self, frame: EncodedFrame) -> bool:
        """Queue a frame; True if this viewer now needs a keyframe from upstream."""
        if self.readyState != "live":
            return False
        if self.needs_keyframe:
            if not frame.keyframe:
                return False
            self.needs_keyframe = False
        if self._queue.full():
            # lagging: everything queued is stale, and the next delta frame would
            # not decode without the ones we drop, so wait for a keyframe
            self.frames_dropped += self._queue.qsize() + 1
            self._drain()
            self.needs_keyframe = self.kind == "video"
            return self.needs_keyframe
        self._queue.put_nowait(frame)
        return False

    async def recv(self) -> av.Packet:
        if self.readyState != "live":
            raise MediaStreamError
        frame = await self._queue.get()
        if frame is None:
            raise MediaStreamError
        delay = time.monotonic() - frame.received
        self.delay_total += delay
        self.delay_max = max(self.delay_max, delay)
        self.frames_sent += 1
        self._on_sent(frame.size)
        return frame.packet

    def stop(self) -> None:
        if self.readyState == "live":
            self._drain()
            self._queue.put_nowait(None)  # wakes the sender so it ends
        super().stop()

    def _drain(self) -> None:
        while not self._queue.empty():
            self._queue.get_nowait()


class KeyframeRequester:
    """Asks the publisher for a keyframe at most once per interval.

    A request that falls inside the interval is not lost: it is sent when the
    interval ends, so a viewer joining just after another still starts soon.
    """

    def __init__(self, on_sent: Callable[[], None], interval: float = 0.5) -> None:
        self.send: Callable[[], Awaitable[None]] | None = None  # the current publisher's
        self._on_sent = on_sent
        self._interval = interval
        self._last = float("-inf")
        self._timer: asyncio.TimerHandle | None = None
        self._task: asyncio.Future | None = None

    def request(self) -> None:
        if self._timer is not None or self.send is None:
            return
        loop = asyncio.get_running_loop()
        wait = self._last + self._interval - loop.time()
        if wait <= 0:
            self._fire()
        else:
            self._timer = loop.call_later(wait, self._fire)

    def _fire(self) -> None:
        self._timer = None
        if self.send is None:
            return
        self._last = asyncio.get_running_loop().time()
        self._on_sent()
        self._task = asyncio.ensure_future(self._send_logged(self.send))

    @staticmethod
    async def _send_logged(send: Callable[[], Awaitable[None]]) -> None:
        try:
            await send()
        except ConnectionError:
            pass  # the publisher is going away; the next one starts on a keyframe
        except Exception:
            log.exception("keyframe request failed")

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


class Fanout:
    """One channel's media of one kind: frames in from the publisher, out to viewers."""

    def __init__(self, kind: str, keyframes: KeyframeRequester) -> None:
        self.kind = kind
        self.viewers: set[ViewerTrack] = set()
        self._keyframes = keyframes
        self._shaper = FrameShaper(kind)
        self.bytes_in = 0
        self.frames_in = 0

    def add_viewer(self, on_sent: Callable[[int], None] = lambda size: None) -> ViewerTrack:
        """on_sent(size): each frame this viewer's sender takes."""
        track = ViewerTrack(self.kind, on_sent)
        self.viewers.add(track)
        if track.needs_keyframe:
            self._keyframes.request()
        return track

    def remove_viewer(self, track: ViewerTrack) -> None:
        self.viewers.discard(track)
        track.stop()

    def on_frame(self, source: object, codec: RTCRtpCodecParameters, data: bytes, ts: int) -> None:
        """Called by the tap on the event loop for every reassembled frame."""
        self.bytes_in += len(data)
        self.frames_in += 1
        # shaped even with nobody watching, to keep parameter sets and timestamps
        frame = self._shaper.shape(source, codec.mimeType.lower(), data, ts)
        lagging = False
        for track in self.viewers:
            lagging |= track.offer(frame)
        if lagging:
            self._keyframes.request()
