// The viewer page: the video (WHEP, whep.js), the LIVE badge and viewer count from the
// public status poll, the sound button, and the stage the widgets are drawn on.
// The widgets themselves (alert, goal, sticker) are mounted by overlay-main.js, exactly
// as in a browser source, from the page's #overlay-config block.
import { Player } from "./whep.js";

const STAGE_PX = 1080; // the widgets' stage is this many pixels on the screen's short side

const config = JSON.parse(document.getElementById("live-config").textContent);
const byId = (id) => document.getElementById(id);
const page = byId("live");
const video = byId("live-video");
const sound = byId("live-sound");
const plurals = new Intl.PluralRules(config.lang);
const numbers = new Intl.NumberFormat(config.lang);

function t(key, vars = {}) {
  return (config.strings[key] ?? key).replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? ""));
}

// Widgets are made for 1080p; the stage scales them so a phone shows them whole and readable.
function fitStage() {
  const k = Math.min(innerWidth, innerHeight) / STAGE_PX;
  byId("live-stage").style.setProperty("--k", k.toFixed(4));
}

function showState(state) {
  page.dataset.state = state;
  byId("live-message").textContent = state === "connecting" ? t("connecting") : state === "full" ? t("full") : "";
}

function showStatus({ live, viewers }) {
  const badge = byId("live-badge");
  badge.textContent = t(live ? "live" : "offline");
  badge.dataset.live = String(live);
  byId("viewer-count").hidden = !live || viewers == null;
  byId("viewer-number").textContent = numbers.format(viewers);
  const form = plurals.select(viewers) === "one" ? "one" : "other";
  byId("viewer-label").textContent = t(`viewers_${form}`, { n: numbers.format(viewers) });
}

function showSound() {
  sound.textContent = t(video.muted ? "unmute" : "mute");
  sound.dataset.muted = String(video.muted);
}

// live.whep_url: an external WHEP server (MediaMTX...) plays the stream; we only draw the
// widgets. It has no status to poll: its answer to the offer says whether it is live.
const external = Boolean(config.whep_url);
const player = new Player({
  url: config.whep_url || `/whep/${encodeURIComponent(config.channel)}`, video, iceServers: config.ice_servers,
  onState: (state) => {
    showState(state);
    if (external) showStatus({ live: state === "playing", viewers: null });
  },
});

async function poll() {
  if (external) {
    player.setLive(true); // after a 404 (offline) this tries again; while playing it changes nothing
    setTimeout(poll, config.poll_ms * (0.8 + Math.random() * 0.4));
    return;
  }
  try {
    const res = await fetch(`/live/${encodeURIComponent(config.channel)}/status`, { cache: "no-store" });
    if (res.ok) {
      const status = await res.json();
      showStatus(status);
      player.setLive(status.live);
    }
  } catch {
    // The server is restarting or the phone lost its network: the next poll tells.
  } finally {
    setTimeout(poll, config.poll_ms * (0.8 + Math.random() * 0.4));
  }
}

sound.addEventListener("click", () => {
  video.muted = !video.muted;
  // A tap is the gesture a browser wants before it plays sound, or plays at all.
  if (video.paused && video.srcObject) video.play().catch(() => {});
});
video.addEventListener("volumechange", showSound);
addEventListener("resize", fitStage);
addEventListener("pagehide", () => player.stop());
addEventListener("pageshow", (e) => { if (e.persisted) player.resume(); });

fitStage();
showSound();
showStatus(external ? { live: false, viewers: null } : config);
showState(config.live ? "connecting" : "offline");
player.setLive(config.live);
setTimeout(poll, config.poll_ms);
// Tests look at this; nothing else should need it.
window.live = { player };
