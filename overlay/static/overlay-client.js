// The one connection every overlay uses: connect, authenticate, replay what was missed,
// keep the server's clock, and come back by itself after a restart.
//
// Reconnecting is ours, not socket.io's: socket.io gives up for good when the server
// refuses a namespace (as it may while restarting), and its jitter only spreads retries
// around a fixed delay. Here every retry waits a random time in [0, min(cap, base·2^n)]
// ("full jitter"), so ten thousand sources that lost the server at the same instant
// come back spread over the whole window instead of in one wave.

const LEAD_MS = 150;          // the server sends "alert play" this long before starts_at
const MAX_DRIFT = 2e-4;       // how fast two clocks may drift apart: 200 ppm, well above real crystals
const STABLE_MS = 5000;       // a connection that lasted this long resets the back-off
const EVENTS = ["donation", "progress", "match", "alert", "settings", "team"];

export function createClient({ io, channel, key, url = location.origin, baseMs = 1000, capMs = 30000 }) {
  let lastSeq = null;
  let clock = null;           // {bound, at}: the best lower bound of (server clock − performance.now())
  let attempt = 0;
  let retryTimer = null;
  let connectedAt = 0;
  let stopped = false;
  const handlers = new Map([["state", []], ["status", []], ...EVENTS.map((e) => [e, []])]);

  const socket = io(`${url}/overlay`, {
    autoConnect: false,
    reconnection: false,
    transports: ["websocket", "polling"],
    tryAllTransports: true,
    auth: (cb) => cb(lastSeq === null ? { channel, key } : { channel, key, last_seq: lastSeq }),
  });

  function emit(name, payload) {
    for (const fn of handlers.get(name)) fn(payload);
  }

  // A message stamped with server time T left the server at or after T, so on arrival the
  // server clock reads at least T: every stamp is a lower bound of the offset, and the largest
  // (the fastest delivery) is the best. A bound ages: the clocks may drift apart by MAX_DRIFT,
  // so an old one counts for that much less. Replayed events carry old stamps, loose bounds
  // that never win. Monotonic local time, so a wall-clock jump on this PC does no harm.
  function offsetNow(now) {
    return clock === null ? null : clock.bound - (now - clock.at) * MAX_DRIFT;
  }

  function sampleClock(serverMs) {
    const now = performance.now();
    if (!Number.isFinite(serverMs)) return;
    const bound = serverMs - now;
    if (clock === null || bound > offsetNow(now)) clock = { bound, at: now };
  }

  function scheduleReconnect() {
    if (stopped || retryTimer !== null) return;
    const delay = Math.random() * Math.min(capMs, baseMs * 2 ** attempt);
    attempt += 1;
    retryTimer = setTimeout(() => {
      retryTimer = null;
      socket.connect();
    }, delay);
  }

  socket.on("connect", () => {
    connectedAt = performance.now();
    emit("status", { connected: true });
  });
  socket.on("disconnect", (reason) => {
    if (performance.now() - connectedAt > STABLE_MS) attempt = 0;
    emit("status", { connected: false, reason });
    if (reason !== "io client disconnect") scheduleReconnect();
  });
  socket.on("connect_error", (err) => {
    console.warn(`overlay: cannot connect (${err.message}); retrying`);
    scheduleReconnect();
  });
  socket.on("state", (state) => {
    // A snapshot is the whole truth, even if its seq went backwards (a store was reset).
    lastSeq = state.seq;
    sampleClock(Date.parse(state.server_time));
    emit("state", state);
  });
  for (const name of EVENTS) {
    socket.on(name, (data) => {
      if (lastSeq !== null && data.seq <= lastSeq) return;
      lastSeq = data.seq;
      if (name === "alert" && data.action === "play") sampleClock(Date.parse(data.starts_at) - LEAD_MS);
      emit(name, data);
    });
  }

  return {
    start() { stopped = false; socket.connect(); },
    stop() {
      stopped = true;
      clearTimeout(retryTimer);
      retryTimer = null;
      socket.disconnect();
    },
    onState(fn) { handlers.get("state").push(fn); },
    onStatus(fn) { handlers.get("status").push(fn); },
    on(name, fn) {
      if (!handlers.has(name)) throw new Error(`unknown overlay event ${name}`);
      handlers.get(name).push(fn);
    },
    serverNow() {
      const now = performance.now();
      return clock === null ? Date.now() : now + offsetNow(now);
    },
    get lastSeq() { return lastSeq; },
    get connected() { return socket.connected; },
  };
}
