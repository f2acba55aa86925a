// The alert queue every overlay shares: what plays (and for how long), what is next, how many wait.
import { el, byId } from "./dom.js";
import { t } from "./i18n.js";
import { act, call } from "./api.js";
import { donorName } from "./feed.js";

const CLEAR_CONFIRM_MS = 5000;

function who(d) {
  const out = document.createDocumentFragment();
  out.append(el("strong", { text: donorName(d) }), " · ", d.display.amount);
  if (d.test) out.append(" ", el("span", { className: "badge test", text: t("test_badge") }));
  return out;
}

export class AlertQueue {
  constructor() {
    this.alerts = { paused: false, playing: null, queue_length: 0, next: [] };
    this.offsetMs = 0; // server clock minus ours, from the state snapshot
    this.shownId = null;
    this.skip = byId("skip");
    this.pause = byId("pause");
    this.clear = byId("clear");
    this.skip.addEventListener("click", () => this.control(this.skip, "skip"));
    this.clear.addEventListener("click", () => this.confirmClear());
    this.clearTimer = null;
    this.pause.addEventListener("click", () => this.control(this.pause, this.alerts.paused ? "resume" : "pause"));
    // Only when the channel speaks messages: stops the voice, the picture plays on (docs/tts.md).
    const skipSpeech = byId("skip-speech");
    if (skipSpeech) skipSpeech.addEventListener("click", () => this.control(skipSpeech, "skip_speech"));
    setInterval(() => this.tick(), 250);
  }

  setServerTime(iso) {
    this.offsetMs = Date.parse(iso) - Date.now();
  }

  // Clearing drops every waiting alert and cannot be undone: the first click asks, a second
  // one within a few seconds clears, so a slip of the mouse on a busy evening loses nothing.
  confirmClear() {
    if (this.clearTimer !== null) {
      this.disarmClear();
      return this.control(this.clear, "clear");
    }
    this.clear.textContent = t("clear_confirm");
    this.clear.classList.add("armed");
    this.clearTimer = setTimeout(() => this.disarmClear(), CLEAR_CONFIRM_MS);
    return null;
  }

  disarmClear() {
    clearTimeout(this.clearTimer);
    this.clearTimer = null;
    this.clear.textContent = t("clear");
    this.clear.classList.remove("armed");
  }

  control(button, action) {
    return act(button, () => call("POST", `/alerts/${action}`));
  }

  render(alerts) {
    // A queue event without `next` leaves the first waiting alerts as they were (only the
    // counts changed); the state snapshot always carries it.
    this.alerts = { next: this.alerts.next, ...alerts };
    const paused = Boolean(alerts.paused);
    byId("paused-badge").hidden = !paused;
    this.pause.textContent = t(paused ? "resume" : "pause");
    this.pause.classList.toggle("warn", paused);
    byId("waiting").textContent = t("waiting", { n: alerts.queue_length });
    const list = byId("next-list");
    list.replaceChildren(...this.alerts.next.slice(0, 5).map((item) => el("li", {}, who(item.donation))));
    byId("nothing-next").hidden = this.alerts.next.length > 0;
    this.shownId = null;
    this.tick();
  }

  // The channel's alert timing (changed in the widget editor, or config.yaml's).
  renderTiming(timing) {
    if (!timing) return;
    const seconds = (ms) => new Intl.NumberFormat(document.documentElement.lang || undefined).format(ms / 1000);
    const changed = timing.duration_ms !== null || timing.gap_ms !== null || timing.tiers.some((x) => x.duration_ms !== null);
    const text = t("alert_timing", { duration: seconds(timing.effective.duration_ms), gap: seconds(timing.effective.gap_ms) });
    byId("alert-timing").textContent = changed ? `${text} ${t("alert_timing_changed")}` : text;
  }

  tick() {
    const playing = this.alerts.playing;
    const now = Date.now() + this.offsetMs;
    const left = playing ? Date.parse(playing.ends_at) - now : 0;
    const progress = byId("now-progress");
    if (!playing || left <= 0) {
      if (this.shownId !== "") {
        byId("now-playing").replaceChildren(t("nothing_playing"));
        byId("time-left").textContent = "";
        progress.hidden = true;
        this.shownId = "";
      }
      return;
    }
    if (this.shownId !== playing.donation.id) {
      byId("now-playing").replaceChildren(who(playing.donation));
      progress.hidden = false;
      this.shownId = playing.donation.id;
    }
    const duration = playing.duration_ms || 1;
    progress.value = Math.min(1, Math.max(0, left / duration));
    byId("time-left").textContent = t("time_left", { s: (Math.min(left, duration) / 1000).toFixed(1) });
  }
}
