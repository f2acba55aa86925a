// WHEP playback for the viewer page: one recvonly offer carrying all its candidates (no
// trickle, as the server answers the same way), one SDP answer, DELETE on leaving.
//
// The player comes back by itself. The status poll (live.js) says when a publisher is on:
// only then is an offer sent, so an offline stream costs the server one small JSON answer
// per viewer every few seconds, not a peer connection. A failure is retried after a random
// wait in [0, min(cap, base·2^n)] ("full jitter"): a hundred phones that lost the stream at
// the same instant do not all come back in the same second.

const GATHER_TIMEOUT_MS = 3000;   // a STUN server that never answers must not hold the offer
const START_JITTER_MS = 1500;     // spread the crowd that sees the stream go live at one poll
const STALL_MS = 8000;            // live, connected, yet no new frame this long: start over
const BASE_MS = 1000;
const CAP_MS = 20000;

function gathered(pc) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      pc.removeEventListener("icegatheringstatechange", check);
      resolve();
    };
    const check = () => { if (pc.iceGatheringState === "complete") done(); };
    const timer = setTimeout(done, GATHER_TIMEOUT_MS);
    pc.addEventListener("icegatheringstatechange", check);
  });
}

function hangUp(session) {
  session.pc.close();
  // keepalive: on pagehide the page is going away, and the server should free the slot now.
  if (session.location) fetch(session.location, { method: "DELETE", keepalive: true }).catch(() => {});
}

export class Player {
  // onState(state): "connecting" | "playing" | "offline" | "full"
  constructor({ url, video, iceServers = [], onState }) {
    Object.assign(this, { url, video, onState });
    this.config = { iceServers: iceServers.map((urls) => ({ urls })) };
    this.live = false;
    this.session = null;
    this.busy = false;
    this.timer = null;
    this.failures = 0;
    this.state = null;
    this.lastFrame = { count: -1, at: performance.now() };
    video.addEventListener("playing", () => { if (this.live) this.emit("playing"); });
    setInterval(() => this.checkStalled(), 2000);
  }

  // The status poll's reading. Offline keeps the connection: a publisher that comes back
  // with the same codecs resumes on it, and the server ends it if it cannot.
  setLive(live) {
    const rising = live && !this.live;
    this.live = live;
    if (this.stopped) return;
    if (!live) this.emit("offline");
    else if (this.session || this.busy) { if (rising) this.emit("connecting"); }
    // A pending back-off is kept: a poll must not turn it into a tight loop.
    else if (rising || this.timer === null) this.retry(rising ? Math.random() * START_JITTER_MS : 0);
  }

  emit(state) {
    if (state === "playing") this.failures = 0;
    if (state !== this.state) this.onState(state);
    this.state = state;
  }

  // pagehide: free the server's slot at once. pageshow (back from the cache) resumes.
  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = null;
    if (this.session) hangUp(this.session);
    this.session = null;
  }

  resume() {
    this.stopped = false;
    this.state = null;
    this.setLive(this.live);
  }

  retry(delay) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => { this.timer = null; this.connect(); }, delay);
  }

  failed(delay) {
    this.failures += 1;
    this.retry(delay ?? Math.random() * Math.min(CAP_MS, BASE_MS * 2 ** this.failures));
  }

  async connect() {
    if (this.busy || this.session || !this.live || this.stopped) return;
    this.busy = true;
    this.emit("connecting");
    try {
      const session = await this.offer();
      if (this.stopped) hangUp(session);
      else this.session = session;
    } catch (err) {
      this.onError(err);
    } finally {
      this.busy = false;
    }
  }

  onError(err) {
    if (err.status === 404) {         // the publisher left between the poll and the offer
      this.live = false;
      this.emit("offline");
    } else if (err.status === 503) {  // full: the server says when to try again
      this.emit("full");
      this.failed(1000 * (Number(err.retryAfter) || 10) * (1 + Math.random() * 0.5));
    } else {
      console.warn(`live: cannot start the video (${err.message}); retrying`);
      this.failed();
    }
  }

  async offer() {
    const pc = new RTCPeerConnection(this.config);
    const session = { pc, location: null };
    pc.addTransceiver("video", { direction: "recvonly" });
    pc.addTransceiver("audio", { direction: "recvonly" });
    pc.addEventListener("track", (e) => this.attach(e.track));
    pc.addEventListener("connectionstatechange", () => this.onConnection(session));
    try {
      await pc.setLocalDescription(await pc.createOffer());
      await gathered(pc);
      const res = await fetch(this.url, { method: "POST", headers: { "Content-Type": "application/sdp" },
                                          body: pc.localDescription.sdp });
      if (res.status !== 201) {
        throw Object.assign(new Error(`HTTP ${res.status}`), { status: res.status,
                                                               retryAfter: res.headers.get("Retry-After") });
      }
      session.location = new URL(res.headers.get("Location"), res.url).href;
      await pc.setRemoteDescription({ type: "answer", sdp: await res.text() });
      this.lastFrame = { count: -1, at: performance.now() };
      return session;
    } catch (err) {
      hangUp(session);
      throw err;
    }
  }

  attach(track) {
    // One stream for both tracks: a new srcObject would restart the element and abort play().
    if (!(this.video.srcObject instanceof MediaStream)) this.video.srcObject = new MediaStream();
    const stream = this.video.srcObject;
    for (const old of stream.getTracks().filter((t) => t.kind === track.kind)) stream.removeTrack(old);
    stream.addTrack(track);
    this.video.play().catch(() => {}); // blocked autoplay: the unmute button starts it (live.js)
  }

  onConnection(session) {
    if (session !== this.session) return;
    const state = session.pc.connectionState;
    if (state === "failed" || state === "closed") this.restart();
  }

  restart() {
    if (this.session) hangUp(this.session);
    this.session = null;
    if (this.live) {
      this.emit("connecting");
      this.failed();
    }
  }

  // A connection the server dropped may linger in "connected" until consent expires;
  // decoded frames are the truth. Only while live: a stream without a publisher has none.
  async checkStalled() {
    const session = this.session;
    const frames = session ? await framesDecoded(session.pc) : -1;
    const now = performance.now();
    if (frames !== this.lastFrame.count || !this.live || session !== this.session) {
      if (frames > this.lastFrame.count && this.live && this.video.readyState >= 2) this.emit("playing");
      this.lastFrame = { count: frames, at: now };
    } else if (now - this.lastFrame.at > STALL_MS) {
      this.restart();
    }
  }
}

async function framesDecoded(pc) {
  let frames = 0;
  try {
    (await pc.getStats()).forEach((s) => {
      if (s.type === "inbound-rtp" && s.kind === "video") frames += s.framesDecoded || 0;
    });
  } catch {
    return -1; // closed meanwhile
  }
  return frames;
}
