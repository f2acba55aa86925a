"""WHIP/WHEP against a real server on loopback, with real aiortc publishers and viewers."""

import asyncio
import subprocess
import sys
import time

import aiohttp
import pytest
from aiohttp import web
from aiortc import RTCPeerConnection, RTCRtpReceiver
from aiortc.rtp import RtpPacket
from prometheus_client import REGISTRY

from overlay.adapters import aiortc as aiortc_adapter
from overlay.live.fanout import KeyframeRequester
from overlay.live.whip import setup_live, LiveSettings
from overlay.live.selftest import LiveSelfTestFailed, run_self_test
from tests.live.conftest import KEY
from tests.live.media import LoopedPacketTrack, encode_clip
from tests.live.peers import SDP, codec_preferences, negotiate, publish, watch
from tests.support import WAIT, until

GARBAGE = "this is not\nan SDP offer\n"


async def live_publisher(base, hub, http, ch="demo", **kw):
    peer = await publish(http, base, ch, KEY, **kw)
    await until(lambda: hub.status(ch)["live"], what="the publisher to go live")
    return peer


def metric(name, channel="demo"):
    return REGISTRY.get_sample_value(name, {"channel": channel}) or 0.0


async def error_of(response, status):
    assert response.status == status, await response.text()
    assert response.content_type == "application/json"
    body = await response.json()
    assert set(body["error"]) == {"code", "message"}
    return body["error"]["code"]


async def test_the_live_self_test_passes_on_the_installed_aiortc():
    # What the live process runs at start-up; after an aiortc upgrade, its message names what broke.
    await run_self_test()


async def test_the_live_self_test_fails_when_frames_no_longer_reach_the_tap(monkeypatch):
    # An aiortc whose receive path no longer passes where the aiortc adapter hooks in.
    async def elsewhere(self, packet, arrival_time_ms):
        pass

    monkeypatch.setattr(RTCRtpReceiver, "_handle_rtp_packet", elsewhere)
    with pytest.raises(LiveSelfTestFailed, match="receiver tap got no frame"):
        await run_self_test(timeout=4.0)


async def test_whip_refuses_bad_requests(live):
    base, hub, http = live
    sdp = {"Content-Type": SDP}
    async with http.post(f"{base}/whip/demo", data=GARBAGE, headers=sdp) as r:
        assert await error_of(r, 401) == "unauthorized"
    bad = {**sdp, "Authorization": "Bearer wrong-key"}
    async with http.post(f"{base}/whip/demo", data=GARBAGE, headers=bad) as r:
        assert await error_of(r, 401) == "unauthorized"
    good = {"Authorization": f"Bearer {KEY}"}
    async with http.post(f"{base}/whip/demo", data=GARBAGE, headers={**good, "Content-Type": "text/plain"}) as r:
        assert await error_of(r, 415) == "unsupported_media_type"
    no_ice = "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 VP8/90000\r\n"
    for body, code in [(GARBAGE, "invalid_sdp"), ("v=0\r\n\xff", "invalid_sdp"), (no_ice, "invalid_sdp"),
                       ("v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n", "unsupported_codec")]:
        async with http.post(f"{base}/whip/demo", data=body.encode("latin-1"), headers={**good, **sdp}) as r:
            assert await error_of(r, 400) == code, body
    async with http.post(f"{base}/whip/demo", data="v=0\r\n" + "a=x\r\n" * 20000, headers={**good, **sdp}) as r:
        assert await error_of(r, 413) == "body_too_large"
    async with http.post(f"{base}/whip/nope", data=GARBAGE, headers={**good, **sdp}) as r:
        assert await error_of(r, 404) == "unknown_channel"
    async with http.get(f"{base}/whip/demo") as r:
        assert await error_of(r, 405) == "method_not_allowed"
    assert hub.status("demo")["live"] is False


async def test_whip_session_lifecycle(live):
    base, hub, http = live
    pub = await live_publisher(base, hub, http)
    assert pub.location.startswith("/whip/demo/") and pub.etag
    assert "a=candidate:" in pub.answer  # gathered before answering: no trickle from us
    url = base + pub.location
    ufrag = next(l for l in pub.pc.localDescription.sdp.splitlines() if l.startswith("a=ice-ufrag:"))
    pwd = next(l for l in pub.pc.localDescription.sdp.splitlines() if l.startswith("a=ice-pwd:"))
    frag = f"{ufrag}\r\n{pwd}\r\nm=video 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\n" \
           "a=candidate:1 1 udp 2130706431 192.0.2.2 40000 typ host\r\na=end-of-candidates\r\n"
    trickle = {"Content-Type": "application/trickle-ice-sdpfrag"}
    async with http.patch(url, data=frag, headers={**trickle, "If-Match": pub.etag}) as r:
        assert r.status == 204, await r.text()
    async with http.patch(url, data="a=candidate:garbage\r\n", headers=trickle) as r:
        assert await error_of(r, 400) == "invalid_candidate"
    async with http.patch(url, data=frag, headers={"Content-Type": SDP}) as r:
        assert await error_of(r, 415) == "unsupported_media_type"
    async with http.patch(url, data=frag, headers={**trickle, "If-Match": '"stale"'}) as r:
        assert await error_of(r, 412) == "etag_mismatch"
    restart = "a=ice-ufrag:newU\r\na=ice-pwd:newpasswordnewpassword12\r\n"
    async with http.patch(url, data=restart, headers=trickle) as r:
        assert await error_of(r, 422) == "ice_restart_unsupported"
    async with http.delete(url) as r:
        assert r.status == 200
    assert hub.status("demo") == {"live": False, "viewers": 0, "bitrate_kbps": None, "since": None}
    async with http.delete(url) as r:
        assert await error_of(r, 404) == "unknown_session"
    async with http.patch(url, data=frag, headers=trickle) as r:
        assert await error_of(r, 404) == "unknown_session"
    await pub.pc.close()


async def test_options_answers_cors_and_ice_servers(aiohttp_server):
    app = web.Application()
    setup_live(app, {"demo": LiveSettings(stream_key=KEY)}, public_url="http://x",
               ice_servers=["stun:stun.example.org:3478"])
    server = await aiohttp_server(app, host="127.0.0.1")
    async with aiohttp.ClientSession() as http:
        for path in ("/whip/demo", "/whep/demo", "/whip/demo/some-session"):
            async with http.options(server.make_url(path)) as r:
                assert r.status == 204
                assert r.headers["Access-Control-Allow-Origin"] == "*"
                assert "POST" in r.headers["Access-Control-Allow-Methods"] or "DELETE" in r.headers["Access-Control-Allow-Methods"]
                allowed = r.headers["Access-Control-Allow-Headers"]
                assert all(h in allowed for h in ("Authorization", "Content-Type", "If-Match"))
                exposed = r.headers["Access-Control-Expose-Headers"]
                assert all(h in exposed for h in ("Location", "ETag", "Link", "Accept-Post"))
                assert r.headers["Accept-Post"] == SDP
                assert r.headers.getall("Link") == ['<stun:stun.example.org:3478>; rel="ice-server"']


@pytest.mark.parametrize("codec", ["video/H264", "video/VP8"])
async def test_viewers_get_every_frame_and_a_late_viewer_starts_on_a_keyframe(live, codec):
    """Frame rate and how soon a late viewer starts are bench/live_forwarding.py's figures."""
    base, hub, http = live
    pub = await live_publisher(base, hub, http, codec=codec)
    plis = metric("overlay_live_keyframe_requests_total")
    early = await watch(http, base, "demo")
    await until(lambda: len(early.frames) >= 30, what="a second of frames for the first viewer")
    late = await watch(http, base, "demo")  # mid-stream: it needs a keyframe of its own
    await until(lambda: len(late.frames) >= 60 and min(early.audio_frames, late.audio_frames) > 50
                and (hub.status("demo")["bitrate_kbps"] or 0) > 50,  # sampled every 2 s while live
                what="two seconds of frames, audio and a bitrate sample")
    assert codec.split("/")[1] in pub.answer and hub.status("demo")["viewers"] == 2
    for viewer in (early, late):
        assert viewer.frames, "no frame decoded"
        assert viewer.received[0][1], "the first frame the viewer got is not a keyframe"
        if codec == "video/H264":  # libvpx does not flag decoded VP8 keyframes
            assert viewer.frames[0][2], f"first decoded frame {viewer.frames[0]} is not a keyframe"
        assert len(viewer.frames) >= len(viewer.received) - 2, "frames failed to decode"
        numbers = [n for _, n, _ in viewer.frames]
        assert numbers == sorted(set(numbers)), "frames out of order or repeated"
    assert metric("overlay_live_keyframe_requests_total") > plis
    assert metric("overlay_live_bytes_forwarded_total") > 0
    senders = [s for v in hub.channels["demo"].viewers.values() for s in v.pc.getSenders()]
    assert senders and all(aiortc_adapter.is_forwarding(s) for s in senders)
    for viewer in (early, late):
        await viewer.close()
    await pub.pc.close()


async def test_whep_needs_a_live_publisher_and_a_free_slot(live):
    base, hub, http = live
    async with http.post(f"{base}/whep/small", data=GARBAGE, headers={"Content-Type": SDP}) as r:
        assert await error_of(r, 404) == "stream_offline"
    pub = await live_publisher(base, hub, http, ch="small")
    async with http.post(f"{base}/whep/small", data=GARBAGE, headers={"Content-Type": SDP}) as r:
        assert await error_of(r, 400) == "invalid_sdp"
    first = await watch(http, base, "small")
    with pytest.raises(AssertionError, match="503"):
        await watch(http, base, "small")
    async with http.post(f"{base}/whep/small", data=GARBAGE, headers={"Content-Type": SDP}) as r:
        assert await error_of(r, 503) == "too_many_viewers"
        assert int(r.headers["Retry-After"]) > 0
    async with http.delete(base + first.peer.location) as r:
        assert r.status == 200
    await until(lambda: hub.status("small")["viewers"] == 0)
    second = await watch(http, base, "small")
    await second.close()
    await first.close()
    await pub.pc.close()


async def test_a_second_publisher_replaces_the_first_and_viewers_follow(live):
    base, hub, http = live
    changes = []

    async def record(ch, status):
        changes.append((ch, status))

    hub.on_change(record)
    first = await live_publisher(base, hub, http)
    viewer = await watch(http, base, "demo")
    await until(lambda: viewer.frames, what="frames from the first publisher")
    with pytest.raises(AssertionError, match="401"):
        await publish(http, base, "demo", "wrong-key")
    second = await publish(http, base, "demo", KEY, first=50000)
    async with http.delete(base + first.location) as r:
        assert r.status == 404  # the old session is gone
    await until(lambda: viewer.frames[-1][1] >= 50000, what="frames from the second publisher")
    switch = next(f for f in viewer.frames if f[1] >= 50000)
    assert switch[2], "the viewer resumed on a non-keyframe"
    assert hub.status("demo")["live"] and hub.status("demo")["viewers"] == 1
    assert ("demo", {**hub.status("demo"), "bitrate_kbps": None}) in changes or changes
    assert any(s["live"] and s["viewers"] == 1 for _, s in changes)
    assert metric("overlay_live_publishers") == 1
    await viewer.close()
    await first.pc.close()
    await second.pc.close()


async def test_hub_close_ends_every_session_and_tells_listeners(live):
    base, hub, http = live
    seen = []
    hub.on_change(lambda ch, status: seen.append((ch, status)))  # a plain function works too
    pub = await live_publisher(base, hub, http)
    viewer = await watch(http, base, "demo")
    await until(lambda: viewer.frames, what="a frame")
    assert ("demo", hub.status("demo")) in seen and hub.status("demo")["viewers"] == 1
    await hub.close()
    assert hub.status("demo") == {"live": False, "viewers": 0, "bitrate_kbps": None, "since": None}
    assert seen[-1] == ("demo", hub.status("demo"))
    assert metric("overlay_live_publishers") == 0 and metric("overlay_live_viewers") == 0
    await until(lambda: pub.pc.connectionState == "closed" or pub.pc.connectionState == "failed"
                or viewer.peer.pc.connectionState in ("closed", "failed"), what="the clients to notice")
    await viewer.close()
    await pub.pc.close()


async def test_server_forwards_without_transcoding(tmp_path):
    """The server in its own process creates no codec, and every viewer keeps getting frames.
    What it costs per viewer against transcoding is bench/live_forwarding.py's figure."""
    clip = encode_clip(60, 1280, 720, 2_500_000, gop=30)  # 2 s of 720p30
    server = subprocess.Popen([sys.executable, "-m", "tests.live.server_proc", KEY],
                              stdout=subprocess.PIPE, text=True)
    try:
        base = f"http://127.0.0.1:{server.stdout.readline().strip()}"
        async with aiohttp.ClientSession() as http:
            pc = RTCPeerConnection()
            transceiver = pc.addTransceiver(LoopedPacketTrack(clip), "sendonly")
            transceiver.setCodecPreferences(codec_preferences("video", "video/H264"))
            pub = await negotiate(http, f"{base}/whip/demo", pc, KEY)
            viewers = [await _watch_when_live(http, base) for _ in range(3)]
            # the looped clip cannot answer a PLI: viewers wait for its next keyframe
            await until(lambda: all(v.frames for v in viewers), what="first frames")
            frames_before = [len(v.frames) for v in viewers]
            await until(lambda: all(len(v.frames) >= b + 60 for v, b in zip(viewers, frames_before)),
                        what="two more seconds of frames for every viewer")
            async with http.get(f"{base}/_test/codecs") as r:
                created = await r.json()
            for viewer in viewers:
                await viewer.close()
            await pub.pc.close()
    finally:
        server.terminate()
        server.wait(WAIT)
        server.stdout.close()
    assert created == {"encoders": 0, "decoders": 0}, created


async def _watch_when_live(http, base):
    deadline = time.monotonic() + WAIT
    while True:
        try:
            return await watch(http, base, "demo")
        except AssertionError as exc:
            if "stream_offline" not in str(exc) or time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.1)



async def test_keyframe_requests_are_rate_limited_but_not_lost():
    loop = asyncio.get_running_loop()
    sent, fired = [], []
    requester = KeyframeRequester(lambda: fired.append(loop.time()), interval=0.5)

    async def send():
        sent.append(loop.time())

    requester.send = send
    for _ in range(10):  # ten viewers' PLIs in a burst
        requester.request()
    assert len(fired) == 1, "the first one goes at once"
    await until(lambda: len(sent) == 2, what="the one held back until the interval ends")
    requester.request()  # a later one waits out the interval too
    await until(lambda: len(sent) == 3, what="a later request")
    assert len(fired) == 3
    # at most one per interval (asyncio timers may fire up to a clock tick early)
    assert all(b - a >= 0.5 - 1e-3 for a, b in zip(fired, fired[1:])), fired
    requester.cancel()


def _rtp(seq: int, ts: int, marker: bool, data: bytes):
    packet = RtpPacket(payload_type=96, marker=int(marker), sequence_number=seq % 65536, timestamp=ts)
    packet._data = data  # what aiortc's receiver leaves on a packet after depayloading
    return packet


def test_frame_assembler_emits_on_marker_and_recovers_from_loss():
    assembler = aiortc_adapter._FrameAssembler(video=True)
    add = assembler.add
    # in order, across the sequence number wrap: out at the marker, not one frame later
    assert add(_rtp(65534, 0, False, b"a")) == (False, None)
    pli, frame = add(_rtp(65535, 0, True, b"b"))
    assert not pli and (frame.data, frame.timestamp) == (b"ab", 0)
    # reordered packets are waited for, then the frame leaves whole
    assert add(_rtp(65537, 3000, True, b"d")) == (False, None)
    assert add(_rtp(65536, 3000, False, b"c"))[1].data == b"cd"
    assert add(_rtp(65536, 3000, False, b"c")) == (False, None)  # late duplicate
    # a hole never repaired (65538): only its frame is dropped, with a PLI
    add(_rtp(65539, 6000, True, b"rest of a broken frame"))
    seq, ts = 65540, 9000
    while True:
        pli, frame = add(_rtp(seq, ts, True, b"f%d" % ts))
        if pli:
            break
        assert frame is None, "a frame overtook the hole"
        seq, ts = seq + 1, ts + 3000
    assert seq - 65538 == aiortc_adapter._FrameAssembler.CAPACITY
    assert frame.data == b"f9000", "the first whole frame after the hole comes next"
    backlog = []
    while (frame := assembler.take_frame()) is not None:  # what the tap drains at once
        backlog.append(frame.data)
    assert backlog[0] == b"f12000" and backlog[-1] == b"f%d" % ts and len(backlog) == seq - 65540
    assert assembler.frames_skipped == 1
    # a keyframe longer than CAPACITY packets has no hole and is not cut
    long_frame = [_rtp(seq + 1 + i, 1 << 20, i == 299, b"k") for i in range(300)]
    assert [assembler.add(p) for p in long_frame][-1][1].data == b"k" * 300

    audio = aiortc_adapter._FrameAssembler(video=False)
    assert audio.add(_rtp(10, 0, False, b"o1"))[1].data == b"o1"
    assert audio.add(_rtp(12, 1920, False, b"o3"))[1].data == b"o3"  # no wait for 11
    assert audio.add(_rtp(11, 960, False, b"o2")) == (False, None)  # too late to play


async def test_racing_viewers_never_exceed_the_limit(live):
    """Offers that arrive together for the last free slot: one is answered, the others get 503,
    whatever the order in which their negotiations finish (the slot is taken before any await)."""
    base, hub, http = live
    pub = await live_publisher(base, hub, http, ch="small")
    pcs = [RTCPeerConnection() for _ in range(5)]
    for pc in pcs:
        pc.addTransceiver("video", "recvonly")
        await pc.setLocalDescription(await pc.createOffer())

    async def offer(pc: RTCPeerConnection) -> tuple[int, str | None]:
        async with http.post(f"{base}/whep/small", data=pc.localDescription.sdp, headers={"Content-Type": SDP}) as r:
            await r.read()
            return r.status, r.headers.get("Location")

    answers = await asyncio.gather(*(offer(pc) for pc in pcs))
    assert sorted(status for status, _ in answers) == [201, 503, 503, 503, 503]
    assert hub.status("small")["viewers"] == 1
    location = next(loc for status, loc in answers if status == 201)
    async with http.delete(base + location) as r:
        assert r.status == 200
    for pc in pcs:
        await pc.close()
    await pub.pc.close()
