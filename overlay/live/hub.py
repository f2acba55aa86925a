"""Live channels: one publisher (WHIP) and many viewers (WHEP) per channel.

HTTP lives in whip.py; aiortc internals live in relay.py. This module owns
the peer connections, the per-channel status and the Prometheus metrics.
"""

import asyncio
import datetime
import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from aiortc import (
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCRtpCodecCapability,
    RTCSessionDescription,
)
from aiortc.sdp import candidate_from_sdp
from prometheus_client import Counter, Gauge

from overlay.errors import ApiError
from overlay.adapters import aiortc as aiortc_adapter
from overlay.live import relay as live_relay
from overlay.live.listeners import Listeners
from overlay.live.fanout import Fanout, KeyframeRequester, ViewerTrack

log = logging.getLogger(__name__)

PUBLISHERS = Gauge("overlay_live_publishers", "Publishers connected (0 or 1)", ["channel"])
VIEWERS = Gauge("overlay_live_viewers", "WHEP viewer sessions", ["channel"])
BYTES_FORWARDED = Counter(
    "overlay_live_bytes_forwarded", "Encoded media bytes handed to viewers' senders", ["channel"]
)
KEYFRAME_REQUESTS = Counter(
    "overlay_live_keyframe_requests", "PLIs sent to the publisher", ["channel"]
)
BITRATE_PERIOD = 2.0  # seconds between bitrate samples pushed to on_change listeners


@dataclass(eq=False)
class Session:
    id: str
    channel: str
    role: str  # "whip" or "whep"
    pc: RTCPeerConnection
    etag: str = field(default_factory=lambda: f'"{secrets.token_urlsafe(9)}"')
    ice_ufrag: str | None = None  # the remote's, to tell an ICE restart in a PATCH
    ice_pwd: str | None = None
    tracks: list[ViewerTrack] = field(default_factory=list)
    ticker: asyncio.Task | None = None


class Channel:
    def __init__(self, name: str, max_viewers: int) -> None:
        self.name = name
        self.max_viewers = max_viewers
        self.keyframes = KeyframeRequester(KEYFRAME_REQUESTS.labels(name).inc)
        self.fanouts = {k: Fanout(k, self.keyframes) for k in ("audio", "video")}
        self.publisher: Session | None = None
        self.codecs: dict[str, list[RTCRtpCodecCapability]] = {}
        self.viewers: dict[str, Session] = {}
        self.live = False
        self.since: datetime.datetime | None = None
        self.bitrate_kbps: int | None = None


class LiveHub:
    def __init__(self, channels: Mapping[str, int], ice_servers: list[str]) -> None:
        """channels: name -> max_viewers."""
        self.channels = {name: Channel(name, n) for name, n in channels.items()}
        self.ice_servers = list(ice_servers)
        self._listeners = Listeners("live status")

    # -- public -----------------------------------------------------------
    def status(self, ch: str) -> dict:
        c = self.channels[ch]
        return {
            "live": c.live,
            "viewers": len(c.viewers),
            "bitrate_kbps": c.bitrate_kbps,
            "since": c.since.isoformat() if c.since else None,
        }

    def on_change(self, callback: Callable[[str, dict], Any]) -> None:
        """callback(ch, status) on live/viewers changes and bitrate samples; may be async."""
        self._listeners.add(callback)

    async def close(self) -> None:
        sessions = [s for c in self.channels.values() for s in self._sessions(c)]
        await asyncio.gather(*(self.end(s) for s in sessions))
        for c in self.channels.values():
            c.keyframes.cancel()

    # -- used by the HTTP layer -------------------------------------------
    def find(self, ch: str, role: str, sid: str) -> Session | None:
        c = self.channels[ch]
        if role == "whip":
            return c.publisher if c.publisher and c.publisher.id == sid else None
        return c.viewers.get(sid)

    async def publish(self, ch: str, offer_sdp: str) -> Session:
        c = self.channels[ch]
        offer = _parse(offer_sdp)
        session = Session(secrets.token_urlsafe(16), ch, "whip", self._new_pc())
        codecs: dict[str, list[RTCRtpCodecCapability]] = {}
        for media in offer.media:
            if media.kind not in ("audio", "video") or media.kind in codecs:
                continue
            codecs[media.kind] = live_relay.choose_codec(media)
            if not codecs[media.kind]:
                await session.pc.close()
                raise ApiError(400, "unsupported_codec",
                               f"no {media.kind} codec we can forward (H.264 packetization-mode=1, VP8, Opus)")
            transceiver = session.pc.addTransceiver(media.kind, "recvonly")
            transceiver.setCodecPreferences(codecs[media.kind])
            tap = partial(c.fanouts[media.kind].on_frame, session)
            aiortc_adapter.tap_receiver(transceiver.receiver, tap)
            if media.kind == "video":
                video_receiver = transceiver.receiver
        await self._negotiate(session, offer_sdp, offer)
        aiortc_adapter.enlarge_receive_buffers(session.pc)
        old, c.publisher = c.publisher, session
        if c.codecs != codecs:
            # viewers negotiated the old codecs and cannot switch mid-connection
            await asyncio.gather(*(self.end(v) for v in list(c.viewers.values())))
        c.codecs = codecs
        c.keyframes.send = partial(aiortc_adapter.request_keyframe, video_receiver) if "video" in codecs else None
        self._watch_state(session)
        if old is not None:
            c.live, c.since, c.bitrate_kbps = False, None, None  # until the new one connects
            await self.end(old)
            self._changed(c)
        return session

    async def watch(self, ch: str, offer_sdp: str) -> Session:
        c = self.channels[ch]
        if not c.live:
            raise ApiError(404, "stream_offline", f"channel {ch!r} is not live right now")
        if len(c.viewers) >= c.max_viewers:
            raise ApiError(503, "too_many_viewers", "this stream is full; try again shortly",
                           {"Retry-After": "10"})
        offer = _parse(offer_sdp)
        session = Session(secrets.token_urlsafe(16), ch, "whep", self._new_pc())
        c.viewers[session.id] = session  # holds the slot while we negotiate
        on_sent = BYTES_FORWARDED.labels(ch).inc
        for kind in dict.fromkeys(live_relay.media_kinds(offer)):
            if kind not in c.codecs:
                continue
            track = c.fanouts[kind].add_viewer(on_sent)
            session.tracks.append(track)
            transceiver = session.pc.addTransceiver(track, "sendonly")
            transceiver.setCodecPreferences(c.codecs[kind])
            aiortc_adapter.attach_sender(transceiver.sender, c.keyframes.request)
        try:
            await self._negotiate(session, offer_sdp, offer)
        except ApiError:
            await self.end(session)
            raise
        self._watch_state(session)
        self._changed(c)
        return session

    async def add_candidates(self, session: Session, candidates: list[tuple[str | None, str]]) -> None:
        for mid, line in candidates:
            candidate = candidate_from_sdp(line)
            candidate.sdpMid = mid
            candidate.sdpMLineIndex = None if mid is not None else 0
            await session.pc.addIceCandidate(candidate)

    async def end(self, session: Session) -> None:
        c = self.channels[session.channel]
        if session.ticker is not None:
            session.ticker.cancel()
        if c.publisher is session:
            c.publisher, c.live, c.since, c.bitrate_kbps = None, False, None, None
            c.keyframes.send = None
            PUBLISHERS.labels(c.name).set(0)
            self._changed(c)
        elif c.viewers.pop(session.id, None) is session:
            for track in session.tracks:
                c.fanouts[track.kind].remove_viewer(track)
            self._changed(c)
        await session.pc.close()

    # -- internals --------------------------------------------------------
    def _new_pc(self) -> RTCPeerConnection:
        servers = [RTCIceServer(urls=url) for url in self.ice_servers]
        return RTCPeerConnection(RTCConfiguration(iceServers=servers) if servers else None)

    async def _negotiate(self, session: Session, offer_sdp: str, offer) -> None:
        """Apply the offer and gather all our candidates into the answer (no trickle)."""
        media = next(m for m in offer.media if m.kind in ("audio", "video"))
        session.ice_ufrag = media.ice.usernameFragment if media.ice else None
        session.ice_pwd = media.ice.password if media.ice else None
        try:
            await session.pc.setRemoteDescription(RTCSessionDescription(offer_sdp, "offer"))
            await session.pc.setLocalDescription(await session.pc.createAnswer())
        except Exception as exc:  # aiortc raises assorted types on a bad offer
            await session.pc.close()
            code = "unsupported_codec" if "send parameters" in str(exc) else "invalid_sdp"
            raise ApiError(400, code, f"cannot use this offer: {exc}") from exc

    def _watch_state(self, session: Session) -> None:
        @session.pc.on("connectionstatechange")
        async def on_state() -> None:
            state = session.pc.connectionState
            if state == "connected" and session.role == "whip":
                self._went_live(session)
            elif state in ("failed", "closed"):
                await self.end(session)

    def _went_live(self, session: Session) -> None:
        c = self.channels[session.channel]
        if c.publisher is not session:
            return
        c.live, c.since = True, datetime.datetime.now(datetime.UTC)
        PUBLISHERS.labels(c.name).set(1)
        session.ticker = asyncio.ensure_future(self._sample_bitrate(c, session))
        self._changed(c)

    async def _sample_bitrate(self, c: Channel, session: Session) -> None:
        last = sum(f.bytes_in for f in c.fanouts.values())
        while c.publisher is session:
            await asyncio.sleep(BITRATE_PERIOD)
            total = sum(f.bytes_in for f in c.fanouts.values())
            c.bitrate_kbps = round((total - last) * 8 / BITRATE_PERIOD / 1000)
            last = total
            self._changed(c)

    def _sessions(self, c: Channel) -> list[Session]:
        return ([c.publisher] if c.publisher else []) + list(c.viewers.values())

    def _changed(self, c: Channel) -> None:
        VIEWERS.labels(c.name).set(len(c.viewers))
        status = self.status(c.name)
        self._listeners.notify(c.name, status)


def _parse(offer_sdp: str):
    try:
        return live_relay.parse_offer(offer_sdp)
    except ValueError as exc:
        raise ApiError(400, "invalid_sdp", str(exc)) from exc
