// timer: the subathon countdown. The server commits its end with each donation that moves it;
// this page only counts down to that end on the server's clock, so every overlay shows the
// same second. Time passes without events: it redraws itself several times a second.

export function mount(root, { client, ui, t, settings }) {
  const panel = ui.role(root, "panel");
  const clock = ui.role(root, "clock");
  const paused = ui.role(root, "paused");
  const added = ui.role(root, "added");
  const cap = ui.role(root, "cap");
  let timer = null;

  function left(now) {
    if (!timer || !timer.started) return null;
    return timer.paused ? timer.remaining_ms : Math.max(0, timer.ends_at - now);
  }

  function render() {
    const ms = left(client.serverNow());
    panel.hidden = ms === null && settings.hide_when_stopped;
    clock.textContent = ms === null ? "--:--" : ui.formatCountdown(ms);
    root.dataset.state = ms === null ? "stopped" : timer.paused ? "paused" : ms === 0 ? "over" : "running";
    root.dataset.addedMs = String(timer ? timer.added_ms : 0); // what donations added in all, for CSS and tests
    paused.hidden = !(timer && timer.paused);
    if (ms === 0 && timer && !timer.paused) clock.textContent = t("timer_over");
    if (timer && timer.cap_ms !== null) {
      cap.textContent = t("timer_cap", { used: ui.formatCountdown(timer.added_ms), cap: ui.formatCountdown(timer.cap_ms) });
    }
  }

  function update(next) {
    const before = timer;
    timer = next;
    render();
    // A donation moved the end: show how much it added.
    if (before && before.started && next.started && next.added_ms > before.added_ms) {
      added.textContent = t("timer_added", { time: ui.formatCountdown(next.added_ms - before.added_ms) });
      ui.restartAnimation(added, "is-bumped");
      ui.restartAnimation(panel, "is-bumped");
    }
  }

  client.onState((state) => { timer = state.timer; render(); });
  client.on("timer", (ev) => update(ev.timer));
  setInterval(render, 250);
  return { applySettings: render };
}
