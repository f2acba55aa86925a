// The one live connection of every page, overlays (/overlay) and the dashboard (/dashboard):
// connect, authenticate, replay what was missed (by seq), keep the server's clock (overlays),
// and come back by itself after a restart.
//
// Reconnecting is ours, not socket.io's: socket.io gives up for good when the server
// refuses a namespace (as it may while restarting), and its jitter only spreads retries
// around a fixed delay. Here every retry waits a random time in [0, min(cap, base·2^n)]
// ("full jitter"), so ten thousand sources that lost the server at the same instant
// come back spread over the whole window instead of in one wave.

const LEAD_MS = 150;          // the server sends "alert play" this long before starts_at
const MAX_DRIFT = 2e-4;       // how fast two clocks may drift apart: 200 ppm, well above real crystals
const STABLE_MS = 5000;       // a connection that lasted this long resets the back-off
const EVENTS = ["donation", "progress", "match", "alert", "settings", "incentive", "reload", "timer"];
// Readings: no seq, never replayed (the snapshot, or the server after a backlog, gives the latest).
export const READINGS = ["team"];

// ``events`` carry a seq: one at or below the last seen is dropped (already in the snapshot or
// seen before a reconnect). ``unsequenced`` events (readings, never replayed) always pass.
// ``onConnectError(err, refused)``: ``refused`` when the server said no (not a network error);
// return true to stop retrying. By default every error is retried (a restarting server refuses).
export function connectFeed({ io, namespace, auth, events, unsequenced = [], url = location.origin,
                              baseMs = 1000, capMs = 30000, onConnectError = null }) {
  let lastSeq = null;
  let attempt = 0;
  let retryTimer = null;
  let connectedAt = 0;
  let stopped = false;
  const handlers = new Map([["state", []], ["status", []], ...[...events, ...unsequenced].map((e) => [e, []])]);

  const socket = io(`${url}${namespace}`, {
    autoConnect: false,
    reconnection: false,
    transports: ["websocket", "polling"],
    tryAllTransports: true,
    auth: (cb) => cb(lastSeq === null ? { ...auth } : { ...auth, last_seq: lastSeq }),
  });

  function emit(name, payload) {
    for (const fn of handlers.get(name)) fn(payload);
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
    // A refusal from the server destroys the socket (inactive); a network error leaves it active.
    if (onConnectError && onConnectError(err, !socket.active)) {
      stopped = true;
      return;
    }
    console.warn(`${namespace}: cannot connect (${err.message}); retrying`);
    scheduleReconnect();
  });
  socket.on("state", (state) => {
    // A snapshot is the whole truth, even if its seq went backwards (a store was reset).
    lastSeq = state.seq;
    emit("state", state);
  });
  for (const name of events) {
    socket.on(name, (data) => {
      if (typeof data?.seq !== "number" || (lastSeq !== null && data.seq <= lastSeq)) return;
      lastSeq = data.seq;
      emit(name, data);
    });
  }
  for (const name of unsequenced) socket.on(name, (data) => emit(name, data));

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
    // Client -> server (overlay.realtime.presence); dropped while disconnected.
    send(name, data) { if (socket.connected) socket.emit(name, data); },
    on(name, fn) {
      if (!handlers.has(name)) throw new Error(`unknown ${namespace} event ${name}`);
      handlers.get(name).push(fn);
    },
    get lastSeq() { return lastSeq; },
    get connected() { return socket.connected; },
  };
}

// An overlay's connection: the feed of /overlay, and the server's clock read from its stamps.
export function createClient({ io, channel, key, url = location.origin, baseMs = 1000, capMs = 30000 }) {
  const feed = connectFeed({ io, namespace: "/overlay", auth: { channel, key }, events: EVENTS, unsequenced: READINGS,
                             url, baseMs, capMs });
  let clock = null;           // {bound, at}: the best lower bound of (server clock − performance.now())

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

  // Registered first, so the clock is sampled before any widget handles the message.
  feed.onState((state) => sampleClock(Date.parse(state.server_time)));
  feed.on("alert", (data) => {
    if (data.action === "play") sampleClock(Date.parse(data.starts_at) - LEAD_MS);
  });

  return {
    start: feed.start,
    stop: feed.stop,
    onState: feed.onState,
    onStatus: feed.onStatus,
    on: feed.on,
    send: feed.send,
    serverNow() {
      const now = performance.now();
      return clock === null ? Date.now() : now + offsetNow(now);
    },
    get lastSeq() { return feed.lastSeq; },
    get connected() { return feed.connected; },
  };
}
