// The subathon timer panel: what the overlays count down to, and the moderator's controls.
// The end comes from the server (committed with the donations that moved it); this panel
// counts down on the server's clock, as the overlay does.
import { byId } from "./dom.js";
import { t } from "./i18n.js";
import { act, call } from "./api.js";

function clock(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const pad = (n) => String(n).padStart(2, "0");
  return `${Math.floor(total / 3600)}:${pad(Math.floor((total % 3600) / 60))}:${pad(total % 60)}`;
}

export class TimerPanel {
  constructor() {
    this.timer = null;
    this.seq = -1;  // of what the panel shows
    this.offsetMs = 0;
    this.toggle = byId("timer-toggle");
    byId("timer-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      const minutes = Number(byId("timer-minutes").value);
      this.send(byId("timer-start"), "start", { seconds: Math.round(minutes * 60) });
    });
    this.toggling = false;
    this.toggleAgain = false;
    this.toggle.addEventListener("click", () => this.toggleTimer());
    for (const button of document.querySelectorAll("[data-timer-add]")) {
      button.addEventListener("click", () => this.send(button, "add", { seconds: Number(button.dataset.timerAdd) }));
    }
    setInterval(() => this.tick(), 250);
  }

  // Pause or resume, from the state shown. A press while the last one is still on its way (its
  // event may show the new state before its answer comes) toggles again once it is answered.
  async toggleTimer() {
    if (this.toggling) {
      this.toggleAgain = true;
      return;
    }
    this.toggling = true;
    try {
      await this.send(this.toggle, this.timer?.paused ? "resume" : "pause");
    } finally {
      this.toggling = false;
    }
    if (this.toggleAgain) {
      this.toggleAgain = false;
      await this.toggleTimer();
    }
  }

  // An action's answer can reach the page after the `timer` event of a later donation: each
  // carries the seq it is current to, and the panel keeps the newer.
  send(button, action, body) {
    return act(button, async () => {
      const answer = await call("POST", `/timer/${action}`, body);
      this.render(answer.timer, answer.seq);
    });
  }

  setServerTime(iso) {
    this.offsetMs = Date.parse(iso) - Date.now();
  }

  // A snapshot is the whole truth, even if its seq went backwards (a store was reset).
  reset(timer, seq) {
    this.seq = -1;
    this.render(timer, seq);
  }

  render(timer, seq) {
    if (seq < this.seq) return;
    this.seq = seq;
    this.timer = timer;
    const started = Boolean(timer && timer.started);
    this.toggle.disabled = !started;
    this.toggle.textContent = t(timer && timer.paused ? "timer_resume" : "timer_pause");
    for (const button of document.querySelectorAll("[data-timer-add]")) button.disabled = !started;
    byId("timer-start").textContent = t(started ? "timer_restart" : "timer_start");
    const cap = timer && timer.cap_ms !== null ? ` · ${t("timer_cap", { cap: clock(timer.cap_ms) })}` : "";
    byId("timer-added").textContent = started ? t("timer_added", { time: clock(timer.added_ms) }) + cap : "";
    this.tick();
  }

  tick() {
    const timer = this.timer;
    const face = byId("timer-clock");
    if (!timer || !timer.started) {
      face.textContent = t("timer_stopped");
      return;
    }
    const left = timer.paused ? timer.remaining_ms : timer.ends_at - (Date.now() + this.offsetMs);
    face.textContent = clock(left) + (timer.paused ? ` (${t("timer_paused")})` : "");
  }
}
