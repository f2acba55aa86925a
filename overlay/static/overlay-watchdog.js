// A browser source looks after itself: it tells the server it is open (the dashboard lists it),
// and it reloads itself when it is stuck. OBS shows a source for hours with nobody looking at
// it; a renderer whose animations stopped, or a page that lost its server and never got it
// back, would stay stuck until someone notices on stream.
//
// A reload keeps the page's place in the event stream: the new page starts from the channel's
// snapshot, which holds the alert playing now, so no alert is replayed and none is missed (as
// with a moderator's "Reload overlays").

const BACKOFF_MS = 5 * 60 * 1000;               // at most one watchdog reload per page this often
const LAST_RELOAD = "overlay-watchdog-reload";  // sessionStorage outlives the reload it records
const HEALTH_TIMEOUT_MS = 5000;

// A page id from getRandomValues: crypto.randomUUID needs a secure context, and OBS loads
// sources over plain http from the LAN.
function newPageId() {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

// ``hello`` on every (re)connection, then ``beat`` every ``beatS`` seconds while connected.
export function announce({ client, widget, beatS }) {
  const pageId = newPageId();
  let timer = null;
  client.onStatus(({ connected }) => {
    clearInterval(timer);
    timer = null;
    if (!connected) return;
    client.send("hello", { widget, page_id: pageId });
    timer = setInterval(() => client.send("beat"), beatS * 1000);
  });
}

// Null when the last watchdog reload is recent or cannot be recorded: without a record, a page
// could reload in a loop, so it does not reload at all.
function mayReload() {
  try {
    const last = Number(sessionStorage.getItem(LAST_RELOAD));
    if (Number.isFinite(last) && Date.now() - last < BACKOFF_MS && Date.now() >= last) return false;
    sessionStorage.setItem(LAST_RELOAD, String(Date.now()));
    return true;
  } catch {
    return false;
  }
}

// Reloading while the server is down would replace the page with the browser's error page,
// which never comes back by itself: reload only when the server answers.
async function serverAnswers() {
  try {
    const response = await fetch("/healthz", { cache: "no-store", signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS) });
    return response.ok;
  } catch {
    return false;
  }
}

// Reload when no animation frame came for ``afterS`` seconds while the page is visible, or
// the connection stayed down that long and the server answers. ``afterS`` 0: never.
export function watch({ client, afterS, reload = () => location.reload() }) {
  if (!(afterS > 0)) return;
  const limit = afterS * 1000;
  let lastFrame = performance.now();
  let downSince = client.connected ? null : performance.now();
  let checking = false;
  const frame = () => {
    lastFrame = performance.now();
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
  // A hidden page gets no frames, rightly: its clock starts again when it shows.
  document.addEventListener("visibilitychange", () => { lastFrame = performance.now(); });
  client.onStatus(({ connected }) => { downSince = connected ? null : downSince ?? performance.now(); });

  async function check() {
    const now = performance.now();
    const frozen = document.visibilityState === "visible" && now - lastFrame > limit;
    const offline = downSince !== null && now - downSince > limit;
    if (checking || !(frozen || offline)) return;
    checking = true;
    try {
      if ((frozen || await serverAnswers()) && mayReload()) {
        console.warn(`overlay watchdog: ${frozen ? "no animation frame" : "no connection"} for ${afterS} s; reloading`);
        reload();
      }
    } finally {
      checking = false;
    }
  }
  setInterval(check, Math.min(5000, limit / 4));
}
