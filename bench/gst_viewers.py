"""Many WHEP viewers in one process, on GStreamer's C WebRTC stack (webrtcbin).

Runs under Debian's system Python (/usr/bin/python3 with python3-gst-1.0), not
the project venv: PyGObject is not a project dependency. bench/live_bench.py
starts it with `--viewer-impl gst`; by hand:

    /usr/bin/python3 bench/gst_viewers.py --url http://127.0.0.1:PORT/whep/demo \
        --count 25 --clip clip.bin [--probes 1]

Why: aiortc's Python receive path costs ~30-40 us a packet, so 100 aiortc
viewers (~27 000 packets/s) saturate the one client core before the server is
measured. Here packets stay in C (libnice, libsrtp, rtpjitterbuffer,
rtph264depay); Python runs once per access unit, to note when it arrived.

Video only: the bench's publisher sends no audio.

Protocol with the parent, one JSON object a line: we print {"ready": n,
"errors": [...]} once every viewer has an answer, read {"start": t, "end": t}
on stdin, and print {"cpu", "udp_drops", "viewers": [{"arrivals", "decoded"}]}
after `end`, (time.time(), frame index) pairs within [start, end).
`arrivals`: an access unit out of rtph264depay (alignment=au: whole frame,
after the jitter buffer), identified by its NAL units like live_bench.py does.
`decoded`: probe viewers only; avdec_h264 picture, index read from its pixels.
"""

import argparse
import json
import os
import socket
import struct
import sys
import threading
import time
import urllib.parse
import urllib.request

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstWebRTC", "1.0")
gi.require_version("GstSdp", "1.0")
from gi.repository import GLib, Gst, GstSdp, GstWebRTC  # noqa: E402

# as drawn by tests/live/media.py: bit b of the index is a 16x16 block at x = 16 b
BITS, BLOCK = 16, 16
H264_CAPS = ("application/x-rtp,media=video,encoding-name=H264,clock-rate=90000,payload=102,"
             "packetization-mode=(string)1,profile-level-id=(string)42e01f")


# -- frame identity (same as overlay.live.relay.h264_nal_units) ----------------
def nal_units(buf: bytes) -> list[bytes]:
    """NAL units of an Annex B access unit, whatever its start codes.

    Mirrors aiortc's H264Encoder._split_bitstream, which the aiortc viewers use,
    so both viewer kinds identify frames the same way.
    """
    out, i = [], 0
    while True:
        i = buf.find(b"\x00\x00\x01", i)
        if i == -1:
            return [n for n in out if n]
        i += 3
        start = i
        i = buf.find(b"\x00\x00\x01", i)
        if i == -1:
            out.append(buf[start:])
            return [n for n in out if n]
        out.append(buf[start:i - 1] if buf[i - 1] == 0 else buf[start:i])


def read_clip(path: str) -> dict[bytes, int]:
    """The clip the publisher loops (4-byte length + access unit, repeated) -> index by content."""
    keys, index = {}, 0
    with open(path, "rb") as f:
        data = f.read()
    pos = 0
    while pos < len(data):
        (n,) = struct.unpack_from(">I", data, pos)
        keys[b"".join(nal_units(data[pos + 4:pos + 4 + n]))] = index
        pos += 4 + n
        index += 1
    return keys


def read_number(buf: Gst.Buffer) -> int:
    """The index drawn in an I420 picture's luma (1280 wide: stride = width, no padding)."""
    ok, info = buf.map(Gst.MapFlags.READ)
    try:
        luma, stride = info.data, 1280
        y = BLOCK // 2
        return sum(1 << b for b in range(BITS) if luma[y * stride + b * BLOCK + BLOCK // 2] > 128)
    finally:
        buf.unmap(info)


# -- one viewer ----------------------------------------------------------------
class Viewer:
    def __init__(self, url: str, keys: dict[bytes, int], probe: bool, latency: int) -> None:
        self.url, self.keys, self.probe = url, keys, probe
        self.arrivals: list[tuple[float, int]] = []
        self.decoded: list[tuple[float, int]] = []
        self.location: str | None = None
        self.gathered = threading.Event()
        self.pipe = Gst.Pipeline.new()
        self.webrtc = Gst.ElementFactory.make("webrtcbin")
        self.webrtc.set_property("bundle-policy", GstWebRTC.WebRTCBundlePolicy.MAX_BUNDLE)
        # jitterbuffer hold time: packets arrive in order on loopback, so a small
        # value only matters if one is lost (then it waits that long for it)
        self.webrtc.set_property("latency", latency)
        # loopback only: libnice skips loopback addresses unless told to use one, and
        # TCP candidates would only lengthen gathering
        # (kept on self: when this wrapper was dropped, webrtcbin's ICE agent was
        # freed too, GST_IS_WEBRTC_ICE assertions; a PyGObject reference mix-up)
        self.agent = agent = self.webrtc.get_property("ice-agent")
        agent.emit("add-local-ip-address", "127.0.0.1")
        agent.set_property("ice-tcp", False)
        self.pipe.add(self.webrtc)
        self.webrtc.connect("pad-added", self._on_pad)
        self.webrtc.connect("notify::ice-gathering-state", self._on_gathering)
        self.webrtc.emit("add-transceiver", GstWebRTC.WebRTCRTPTransceiverDirection.RECVONLY,
                         Gst.Caps.from_string(H264_CAPS))

    def negotiate(self) -> None:
        """Offer, gather every candidate (WHEP here is non-trickle), POST, apply the answer."""
        self.pipe.set_state(Gst.State.PLAYING)
        promise = Gst.Promise.new()
        self.webrtc.emit("create-offer", None, promise)
        promise.wait()
        reply = promise.get_reply()  # hold it: the offer is only valid while the reply lives
        offer = reply.get_value("offer")
        promise = Gst.Promise.new()
        self.webrtc.emit("set-local-description", offer, promise)
        promise.wait()
        if not self.gathered.wait(10):
            raise RuntimeError("ICE gathering did not complete in 10 s")
        sdp = self.webrtc.get_property("local-description").sdp.as_text()
        # Take the DTLS client role. As DTLS server, GStreamer's RSA certificate shares no
        # cipher with aiortc's client hello (ECDSA suites only: "no shared cipher"). An
        # offer may not say "active" by the RFC, but aiortc then answers "passive", and
        # webrtcbin, whose own description says actpass, follows the answer.
        sdp = sdp.replace("a=setup:actpass", "a=setup:active")
        request = urllib.request.Request(self.url, data=sdp.encode(), method="POST",
                                         headers={"Content-Type": "application/sdp"})
        with urllib.request.urlopen(request, timeout=30) as response:
            if response.status != 201:
                raise RuntimeError(f"POST {self.url}: {response.status}")
            self.location = urllib.parse.urljoin(self.url, response.headers["Location"])
            answer_text = response.read().decode()
        _, message = GstSdp.SDPMessage.new_from_text(answer_text)
        answer = GstWebRTC.WebRTCSessionDescription.new(GstWebRTC.WebRTCSDPType.ANSWER, message)
        promise = Gst.Promise.new()
        self.webrtc.emit("set-remote-description", answer, promise)
        promise.wait()

    def close(self) -> None:
        if self.location:
            try:
                urllib.request.urlopen(urllib.request.Request(self.location, method="DELETE"), timeout=5)
            except OSError:
                pass  # the server may already be gone; we are ending anyway
        self.pipe.set_state(Gst.State.NULL)

    def _on_gathering(self, webrtc, _pspec) -> None:
        if webrtc.get_property("ice-gathering-state") == GstWebRTC.WebRTCICEGatheringState.COMPLETE:
            self.gathered.set()

    def _on_pad(self, _webrtc, pad: Gst.Pad) -> None:
        if pad.get_direction() != Gst.PadDirection.SRC:
            return
        # alignment=au: the depayloader hands over whole frames, like aiortc's jitter buffer
        chain = "rtph264depay ! video/x-h264,stream-format=byte-stream,alignment=au ! "
        chain += ("tee name=t ! queue ! fakesink name=au sync=false async=false "
                  "t. ! queue ! avdec_h264 max-threads=1 ! video/x-raw,format=I420 ! "
                  "fakesink name=pic sync=false async=false" if self.probe else
                  "fakesink name=au sync=false async=false")
        bin_ = Gst.parse_bin_from_description(chain, True)
        self.pipe.add(bin_)
        bin_.sync_state_with_parent()
        pad.link(bin_.get_static_pad("sink"))
        bin_.get_by_name("au").get_static_pad("sink").add_probe(Gst.PadProbeType.BUFFER, self._on_au)
        if self.probe:
            bin_.get_by_name("pic").get_static_pad("sink").add_probe(Gst.PadProbeType.BUFFER, self._on_picture)

    def _on_au(self, _pad, info) -> Gst.PadProbeReturn:
        when = time.time()
        buf = info.get_buffer()
        data = buf.extract_dup(0, buf.get_size())
        self.arrivals.append((when, self.keys.get(b"".join(nal_units(data)), -1)))
        return Gst.PadProbeReturn.OK

    def _on_picture(self, _pad, info) -> Gst.PadProbeReturn:
        self.decoded.append((time.time(), read_number(info.get_buffer())))
        return Gst.PadProbeReturn.OK


# -- the process -----------------------------------------------------------------
def udp_drops() -> int:
    """Datagrams this process's UDP sockets dropped for a full receive buffer (as tests/live/procstat.py)."""
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    total = 0
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if fields[9] in inodes:
                    total += int(fields[-1])
    return total


def widen_receive_buffers(size: int) -> None:
    """SO_RCVBUF on every UDP socket of this process (libnice offers no setting).

    A 720p keyframe arrives as a burst of ~50-100 packets; on loopback each takes
    several KiB of buffer, so the default 208 KiB overflowed while a viewer's
    thread waited for the shared client core (thousands of drops at 30 viewers
    with the core 75% idle). The server's sockets are left as they are.
    """
    for fd in os.listdir("/proc/self/fd"):
        try:
            if not os.readlink(f"/proc/self/fd/{fd}").startswith("socket:["):
                continue
            sock = socket.socket(fileno=os.dup(int(fd)))
        except OSError:
            continue
        with sock:
            if sock.type == socket.SOCK_DGRAM:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)


def send(obj) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def run(args, loop: GLib.MainLoop) -> None:
    """Runs beside the main loop: webrtcbin's promises and signals come from its own threads."""
    keys = read_clip(args.clip)
    viewers, errors = [], []
    for i in range(args.count):
        viewer = Viewer(args.url, keys, i < args.probes, args.latency)
        try:
            viewer.negotiate()
            viewers.append(viewer)
        except Exception as exc:  # report it to the parent; the other viewers still count
            errors.append(repr(exc))
            viewer.close()
    widen_receive_buffers(args.rcvbuf)
    send({"ready": len(viewers), "errors": errors[:3]})
    window = json.loads(sys.stdin.readline())
    start, end = window["start"], window["end"]
    time.sleep(max(0.0, start - time.time()))
    cpu0, drops0 = time.process_time(), udp_drops()
    time.sleep(max(0.0, end - time.time()))
    cpu = (time.process_time() - cpu0) / (end - start)  # all threads of this process
    send({"cpu": cpu, "udp_drops": udp_drops() - drops0, "viewers": [
        {"arrivals": [a for a in list(v.arrivals) if start <= a[0] < end],
         "decoded": [d for d in list(v.decoded) if start <= d[0] < end]} for v in viewers]})
    for viewer in viewers:
        viewer.close()
    GLib.idle_add(loop.quit)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True, help="WHEP endpoint, e.g. http://127.0.0.1:8080/whep/demo")
    parser.add_argument("--count", type=int, default=25)
    parser.add_argument("--clip", required=True, help="access units the publisher loops (see read_clip)")
    parser.add_argument("--probes", type=int, default=0, help="viewers that also decode (avdec_h264)")
    parser.add_argument("--latency", type=int, default=50, help="webrtcbin jitterbuffer latency, ms")
    parser.add_argument("--rcvbuf", type=int, default=2 << 20,
                        help="SO_RCVBUF for the viewers' UDP sockets, bytes (capped by net.core.rmem_max)")
    args = parser.parse_args()
    Gst.init(None)
    loop = GLib.MainLoop()
    threading.Thread(target=run, args=(args, loop), daemon=True).start()
    loop.run()


if __name__ == "__main__":
    main()
