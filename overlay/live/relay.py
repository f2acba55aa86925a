"""The relay's media handling: frames shared by every viewer, codecs, SDP offers.

Receiving encoded frames from a publisher and passing viewers' keyframe requests upstream
take aiortc internals: those live in overlay/adapters/aiortc.py. Sending is public API: a
track's recv() may return an encoded ``av.Packet``, which the sender packetises without
encoding.
"""

import fractions
import time
from dataclasses import dataclass

import av
from aiortc import RTCRtpCodecCapability, RTCRtpSender, sdp
from aiortc.rtcpeerconnection import is_codec_compatible


# Codecs we forward: what OBS sends (H.264 packetization-mode=1, Opus) and VP8.
SUPPORTED = {"video/h264", "video/vp8", "audio/opus"}
_NAL_IDR, _NAL_SPS, _NAL_PPS = 5, 7, 8
ANNEX_B = b"\x00\x00\x00\x01"  # the start code between NAL units


@dataclass(eq=False, slots=True)
class EncodedFrame:
    """One frame as every viewer's sender takes it: one av.Packet shared by all, never copied."""

    packet: av.Packet  # pts in codec clock units, continuous across publisher changes
    keyframe: bool
    size: int
    received: float = 0.0  # time.monotonic() when it left the publisher's receiver


class FrameShaper:
    """Turns one channel's frames of one kind into packets shared by every viewer.

    Keeps timestamps continuous when the publisher is replaced (each viewer's
    sender keeps its own VP8 picture ids), and keeps the last H.264 parameter
    sets so that a keyframe sent without them still starts a new viewer's decoder.
    """

    STEP = {"video": 3000, "audio": 960}  # one frame at 30 fps / 20 ms
    TIME_BASE = {"video": fractions.Fraction(1, 90000), "audio": fractions.Fraction(1, 48000)}

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._source: object = None
        self._offset = 0
        self._last = -self.STEP[kind]
        self._param_sets: dict[int, bytes] = {}

    def shape(self, source: object, mime: str, data: bytes, ts: int) -> EncodedFrame:
        if source is not self._source:
            # the new receiver's clock starts at 0; continue where the last one stopped
            self._source = source
            self._offset = self._last + self.STEP[self.kind] - ts
            self._param_sets = {}
        self._last = ts + self._offset
        if mime == "video/h264":
            data, key = self._h264(data)
        else:
            key = is_keyframe(mime, data)
        # each viewer's sender packetises it (public API: a track may yield encoded packets)
        packet = av.Packet(data)
        packet.pts, packet.time_base = self._last, self.TIME_BASE[self.kind]
        return EncodedFrame(packet, key, len(data), time.monotonic())

    def _h264(self, data: bytes) -> tuple[bytes, bool]:
        nals = h264_nal_units(data)
        types_ = [n[0] & 0x1F for n in nals]
        for nal, nal_type in zip(nals, types_):
            if nal_type in (_NAL_SPS, _NAL_PPS):
                self._param_sets[nal_type] = nal
        key = _NAL_IDR in types_
        if key and _NAL_SPS not in types_ and len(self._param_sets) == 2:
            data = ANNEX_B.join([b"", self._param_sets[_NAL_SPS], self._param_sets[_NAL_PPS], *nals])
        return data, key


def h264_nal_units(data: bytes) -> list[bytes]:
    """The NAL units of an Annex B access unit, whatever its start codes."""
    # emulation prevention keeps 00 00 01 out of a NAL unit; the zero before a 4-byte
    # start code, and trailing_zero_8bits, are padding
    return [n for n in (part.rstrip(b"\x00") for part in data.split(b"\x00\x00\x01")) if n]


def is_keyframe(mime: str, data: bytes) -> bool:
    """Does this reassembled frame let a decoder start? (audio frames always do)"""
    if mime == "video/h264":
        return any(n[0] & 0x1F == _NAL_IDR for n in h264_nal_units(data))
    if mime == "video/vp8":
        return len(data) > 0 and not data[0] & 0x01  # P bit clear: key frame
    return True


def parse_offer(text: str) -> sdp.SessionDescription:
    """Parse an SDP offer; ValueError with a readable message if it is not one."""
    if not text.startswith("v=0"):
        raise ValueError("not an SDP offer (must start with v=0)")
    try:
        offer = sdp.SessionDescription.parse(text)
    except Exception as exc:  # aiortc's parser raises many types on garbage
        raise ValueError(f"unparsable SDP: {exc}") from exc
    if not any(m.kind in ("audio", "video") for m in offer.media):
        raise ValueError("the offer has no audio or video")
    return offer


def choose_codec(media: sdp.MediaDescription) -> list[RTCRtpCodecCapability]:
    """The publisher's first codec we can forward, with its RTX: one codec per m-line.

    Answering a single codec means we know what the publisher sends before its
    first packet, so viewers can be offered exactly that.
    """
    caps = RTCRtpSender.getCapabilities(media.kind).codecs
    for offered in media.rtp.codecs:
        if offered.mimeType.lower() not in SUPPORTED:
            continue
        for cap in caps:
            if is_codec_compatible(cap, offered):
                rtx = [c for c in caps if c.mimeType.lower() == "video/rtx"]
                return [cap, *rtx] if media.kind == "video" else [cap]
    return []


def media_kinds(offer: sdp.SessionDescription) -> list[str]:
    return [m.kind for m in offer.media if m.kind in ("audio", "video")]
