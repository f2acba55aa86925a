"""aiortc internals (written against aiortc 1.16, aioice 0.10).

Receiving: RTCRtpReceiver reassembles RTP packets into whole encoded frames in its jitter
buffer, then hands them to a decoder thread through a queue.Queue. There is no public way to
get the encoded frames, so ``tap_receiver`` swaps that queue (name-mangled
``__decoder_queue``) for one that gives the frames to us (the decoder thread idles, nothing is
decoded), and the jitter buffer (``__jitter_buffer``) for one that lets a frame go at its last
packet rather than one frame interval later; it reads the receiver's ``__kind`` and
``__timestamp_mapper``, and each RTP packet's depayloaded ``_data``.
``request_keyframe`` reads ``__rtx_ssrc`` and calls ``_send_rtcp_pli``;
``enlarge_receive_buffers`` reaches the ICE connection's sockets (aioice's ``_protocols``).

Sending is public API, except the viewer's keyframe requests: the sender calls its own
``_send_keyframe()`` on PLI/FIR, which would ask an encoder we never run; ``attach_sender``
passes them upstream instead.

Check: overlay/live/selftest.py exercises every function here over a real loopback peer
connection when the live process starts. Fallback: live video is disabled with the reason,
and the donation server carries on.
"""

import logging
import queue
import socket
from collections.abc import Callable

from aiortc import RTCPeerConnection, RTCRtpReceiver, RTCRtpSender
from aiortc.jitterbuffer import JitterFrame
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.utils import uint16_add

log = logging.getLogger(__name__)

FrameCallback = Callable[[RTCRtpCodecParameters, bytes, int], None]


class _EncodedTap(queue.Queue):
    """Stands in for the receiver's decoder queue: frames go to us, not to a decoder."""

    def __init__(self, on_frame: FrameCallback, decode: bool, assembler, mapper) -> None:
        super().__init__()
        self._on_frame, self._decode = on_frame, decode
        self._assembler, self._mapper = assembler, mapper

    def put(self, item, block=True, timeout=None) -> None:
        if item is None:  # the receiver is stopping: let the idle decoder thread end
            super().put(None)
            return
        codec, frame = item
        while frame is not None:
            self._forward(codec, frame)
            # the receiver takes one frame per packet; after a repaired hole
            # several are complete at once, and they should not wait
            frame = self._assembler.take_frame()
            if frame is not None:
                frame.timestamp = self._mapper.map(frame.timestamp)

    def _forward(self, codec: RTCRtpCodecParameters, frame: JitterFrame) -> None:
        try:
            self._on_frame(codec, frame.data, frame.timestamp)
        except Exception:  # a relay bug must not kill the publisher's receive path
            log.exception("live relay dropped a frame")
        if self._decode:
            super().put((codec, frame))


class _FrameAssembler:
    """Stands in for the receiver's JitterBuffer (same add() contract).

    aiortc's buffer lets a frame go only when the next frame's first packet
    arrives: one frame interval late (33 ms at 30 fps), and it rescans every
    buffered packet on each arrival. This one lets a video frame go as soon as
    its last packet (RTP marker bit) is in, looking at each packet once. An
    audio packet is a whole Opus frame and goes at once; aiortc never NACKs
    audio, so a gap there is not worth waiting for.
    """

    # aiortc senders keep 128 packets for retransmission: a hole older than
    # that will not be repaired, so stop holding later frames back for it
    CAPACITY = 128
    MAX_LATE = 50  # this many late packets in a row: the sequence restarted

    def __init__(self, video: bool) -> None:
        self._video = video
        self._packets: dict[int, object] = {}
        self._origin = self._scan = 0  # first packet of the next frame / next one to look at
        self._started = False
        self._late = 0
        self.frames_skipped = 0

    def add(self, packet) -> tuple[bool, JitterFrame | None]:
        seq = packet.sequence_number
        if not self._started:  # media starts with a frame once the connection is up
            self._origin = self._scan = seq
            self._started = True
        if uint16_add(seq, -self._origin) >= 0x8000:  # older than what already left
            self._late += 1
            if self._late < self.MAX_LATE:
                return False, None
            self._packets.clear()
            self._origin = self._scan = seq
        self._late = 0
        if not self._video:
            self._origin = uint16_add(seq, 1)
            return False, JitterFrame(packet._data, packet.timestamp)
        self._packets[seq] = packet
        # self._scan is the first packet not in yet: a hole if newer ones are
        # (measured from it, not from the frame start: a keyframe can be long)
        waited = uint16_add(seq, -self._scan)
        pli = self.CAPACITY <= waited < 0x8000 and self._skip_broken_frame(seq)
        return pli, self.take_frame()

    def take_frame(self) -> JitterFrame | None:
        while (packet := self._packets.get(self._scan)) is not None:
            self._scan = uint16_add(self._scan, 1)
            if packet.marker:
                parts = [self._packets.pop(uint16_add(self._origin, i))
                         for i in range(uint16_add(self._scan, -self._origin))]
                self._origin = self._scan
                return JitterFrame(b"".join(p._data for p in parts), parts[0].timestamp)
        return None

    def _skip_broken_frame(self, newest: int) -> bool:
        """Drop the frame with the hole, up to its end (the next marker); True: send a PLI."""
        seq = self._scan
        while seq != newest and not getattr(self._packets.get(seq), "marker", 0):
            seq = uint16_add(seq, 1)
        end = uint16_add(seq, 1)
        while self._origin != end:
            self._packets.pop(self._origin, None)
            self._origin = uint16_add(self._origin, 1)
        self._scan = self._origin
        self.frames_skipped += 1
        return True


def tap_receiver(receiver: RTCRtpReceiver, on_frame: FrameCallback, decode: bool = False) -> None:
    """Route the receiver's reassembled frames to on_frame (called on the event loop).

    decode=False (the relay) starves the decoder thread; decode=True (test and
    bench viewers) lets frames through to it as well. Must run before the
    connection starts, because the decoder thread captures the queue then.
    """
    assembler = _FrameAssembler(receiver._RTCRtpReceiver__kind == "video")
    mapper = receiver._RTCRtpReceiver__timestamp_mapper
    receiver._RTCRtpReceiver__jitter_buffer = assembler
    receiver._RTCRtpReceiver__decoder_queue = _EncodedTap(on_frame, decode, assembler, mapper)


def enlarge_receive_buffers(pc: RTCPeerConnection, size: int = 4 << 20) -> None:
    """Room for the publisher's keyframe bursts while the loop is busy sending.

    Sending one keyframe to every viewer keeps the event loop away from the
    publisher's socket for a while; a full default buffer (~200 KB) then drops
    the packets every viewer needs. The kernel caps this at net.core.rmem_max.
    """
    gatherers = {t.receiver.transport.transport.iceGatherer for t in pc.getTransceivers()}
    for gatherer in gatherers:
        for protocol in gatherer._connection._protocols:
            sock = protocol.transport.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)


async def request_keyframe(receiver: RTCRtpReceiver) -> None:
    """Send a PLI for every media SSRC the publisher is sending us (not its RTX)."""
    rtx = receiver._RTCRtpReceiver__rtx_ssrc
    for source in receiver.getSynchronizationSources():
        if source.source not in rtx:
            await receiver._send_rtcp_pli(source.source)


def attach_sender(sender: RTCRtpSender, on_keyframe_request: Callable[[], None]) -> None:
    """Pass the viewer's PLI/FIR upstream: the sender never encodes, so it cannot answer them."""
    sender._send_keyframe = on_keyframe_request


def is_forwarding(sender: RTCRtpSender, on_keyframe_request: Callable[[], None] | None = None) -> bool:
    """True if the sender passes keyframe requests to us (to on_keyframe_request, if given)."""
    hook = sender.__dict__.get("_send_keyframe")
    return hook is not None and (on_keyframe_request is None or hook == on_keyframe_request)
