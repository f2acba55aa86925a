"""What an uploaded file really is, read from its bytes (never from its name), and the
content-hashed name it is stored and served under. Pure: no I/O.

Each check is a light parser of the format's header, enough to refuse a script or an
HTML page renamed ``.png``: a browser sniffing it could otherwise run it.
"""
from __future__ import annotations

import hashlib
import re
import struct
from dataclasses import dataclass

IMAGE, SOUND, VIDEO = "image", "sound", "video"
# What a setting asking for a kind takes: an alert's picture may be a still image or a video.
FITS = {IMAGE: (IMAGE, VIDEO), SOUND: (SOUND,), VIDEO: (VIDEO,)}


@dataclass(frozen=True)
class Kind:
    kind: str        # IMAGE, SOUND or VIDEO
    ext: str
    mime: str


PNG, GIF, WEBP = Kind(IMAGE, "png", "image/png"), Kind(IMAGE, "gif", "image/gif"), Kind(IMAGE, "webp", "image/webp")
JPEG = Kind(IMAGE, "jpg", "image/jpeg")
MP3, OGG, WAV = Kind(SOUND, "mp3", "audio/mpeg"), Kind(SOUND, "ogg", "audio/ogg"), Kind(SOUND, "wav", "audio/wav")
WEBM, MP4 = Kind(VIDEO, "webm", "video/webm"), Kind(VIDEO, "mp4", "video/mp4")
BY_EXT = {k.ext: k for k in (PNG, GIF, WEBP, JPEG, MP3, OGG, WAV, WEBM, MP4)}
STORED = re.compile(r"^[a-z0-9-]{1,40}\.[0-9a-f]{16}\.(png|gif|webp|jpg|mp3|ogg|wav|webm|mp4)$")


def _png(b: bytes) -> bool:
    return b.startswith(b"\x89PNG\r\n\x1a\n") and b[12:16] == b"IHDR"


def _gif(b: bytes) -> bool:
    return b[:6] in (b"GIF87a", b"GIF89a") and len(b) > 13


def _riff(b: bytes, form: bytes, chunks: tuple[bytes, ...]) -> bool:
    return len(b) > 20 and b[:4] == b"RIFF" and b[8:12] == form and b[12:16] in chunks


def _webp(b: bytes) -> bool:
    return _riff(b, b"WEBP", (b"VP8 ", b"VP8L", b"VP8X"))


def _wav(b: bytes) -> bool:
    return _riff(b, b"WAVE", (b"fmt ", b"JUNK", b"LIST", b"bext"))


def _ogg(b: bytes) -> bool:
    return b[:4] == b"OggS" and len(b) > 27 and b[4] == 0


def _jpeg(b: bytes) -> bool:
    # SOI, then a marker segment (APPn, DQT, SOF…): FF D8 FF and a marker byte that is one.
    return len(b) > 4 and b[:3] == b"\xff\xd8\xff" and 0xC0 <= b[3] <= 0xFE


def _webm(b: bytes) -> bool:
    # An EBML header whose DocType is "webm" (a Matroska file of another DocType is not taken).
    return b[:4] == b"\x1a\x45\xdf\xa3" and b"\x42\x82" in b[4:64] and b"webm" in b[4:64]


MP4_BRANDS = (b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"dash", b"M4V ", b"mp71")


def _mp4(b: bytes) -> bool:
    # An ISO BMFF "ftyp" box first, whose major or a compatible brand is an MP4 video's.
    if len(b) < 16 or b[4:8] != b"ftyp":
        return False
    size = struct.unpack(">I", b[:4])[0]
    if not 16 <= size <= min(len(b), 256):
        return False
    brands = [b[8:12]] + [b[i:i + 4] for i in range(16, size - 3, 4)]
    return any(brand in MP4_BRANDS for brand in brands)


def _mp3_frame(b: bytes, at: int) -> bool:
    """An MPEG audio frame header: sync bits, a layer, a real bitrate and sample rate."""
    if len(b) < at + 4:
        return False
    h = struct.unpack(">I", b[at:at + 4])[0]
    sync, version, layer = h >> 21, (h >> 19) & 3, (h >> 17) & 3
    bitrate, rate = (h >> 12) & 15, (h >> 10) & 3
    return sync == 0x7FF and version != 1 and layer != 0 and bitrate not in (0, 15) and rate != 3


def _mp3(b: bytes) -> bool:
    if b[:3] == b"ID3" and len(b) > 10:
        size = (b[6] & 0x7F) << 21 | (b[7] & 0x7F) << 14 | (b[8] & 0x7F) << 7 | (b[9] & 0x7F)
        start = 10 + size
        # Some encoders pad after the tag: look for the first frame a little further on.
        return any(_mp3_frame(b, i) for i in range(start, min(start + 4096, len(b) - 3)))
    return _mp3_frame(b, 0)


CHECKS = ((PNG, _png), (GIF, _gif), (WEBP, _webp), (JPEG, _jpeg), (WAV, _wav), (OGG, _ogg),
          (WEBM, _webm), (MP4, _mp4), (MP3, _mp3))


def sniff(head: bytes) -> Kind | None:
    """The file's type from its first bytes (8 KiB is plenty), or None if it is none we take."""
    return next((kind for kind, check in CHECKS if check(head)), None)


def slug(original: str) -> str:
    """A readable stem from the name the moderator's file had: lower-case, a-z 0-9 and dashes."""
    stem = original.rsplit("/", 1)[-1].rsplit("\\", 1)[-1].rsplit(".", 1)[0].lower()
    return re.sub(r"[^a-z0-9]+", "-", stem).strip("-")[:40].strip("-") or "file"


def stored_name(original: str, body: bytes, kind: Kind) -> str:
    """``slug.<hash>.ext``: a new content gets a new name, so it can be cached for a year."""
    return f"{slug(original)}.{hashlib.sha256(body).hexdigest()[:16]}.{kind.ext}"


def parse_stored(name: str) -> Kind | None:
    """The kind of a name we gave, or None for anything else (path tricks included)."""
    return BY_EXT[name.rsplit(".", 1)[1]] if STORED.match(name) else None


@dataclass(frozen=True)
class Quota:
    """What one channel's media library may hold."""
    max_bytes: int
    max_files: int


def over_quota(quota: Quota, sizes: list[int], size: int) -> str | None:
    """Why a new file of ``size`` bytes does not fit beside files of ``sizes``, or None if it does."""
    if len(sizes) + 1 > quota.max_files:
        return f"the media library holds at most {quota.max_files} files: delete one first"
    if sum(sizes) + size > quota.max_bytes:
        free = max(quota.max_bytes - sum(sizes), 0)
        return (f"the media library holds at most {quota.max_bytes // 1024} KiB; {free // 1024} KiB are free: "
                "delete a file first")
    return None
