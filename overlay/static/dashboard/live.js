// Live video: publisher connected, bitrate, viewers, since. First from the page's data, then
// from `live` events — readings, not logged changes: no seq, never replayed.
import { byId, setText } from "./dom.js";
import { t } from "./i18n.js";

export class LivePanel {
  constructor(live, lang, channel) {
    this.enabled = Boolean(live);
    this.channel = channel;
    this.numbers = new Intl.NumberFormat(lang);
    this.when = new Intl.DateTimeFormat(lang, { timeStyle: "short" });
    this.status = live ? live.status : null;
    if (this.enabled) this.render({ ...live.status, error: live.error });
  }

  render(s) {
    if (!this.enabled) return;
    this.status = s;
    // Why live video is off on this server (a reading like the rest: absent means unchanged).
    if (s.error !== undefined) {
      byId("live-error").hidden = !s.error;
      byId("live-error").textContent = s.error || "";
    }
    const badge = byId("live-badge");
    badge.textContent = t(s.live ? "live_on_air" : "live_off_air");
    badge.className = `badge ${s.live ? "ok" : ""}`;
    byId("live-status").dataset.live = String(s.live);
    setText("live-publisher", t(s.live ? "live_connected" : "live_not_connected"));
    setText("live-bitrate", s.bitrate_kbps == null ? "—" : t("live_kbps", { n: this.numbers.format(s.bitrate_kbps) }));
    setText("live-viewers", this.numbers.format(s.viewers));
    setText("live-since", s.since ? this.when.format(new Date(s.since)) : "—");
  }

  // Readings sent while the socket was down are gone: after a reconnect, ask the public
  // status; a change of state clears what it does not say, and the next event fills it in.
  async refresh() {
    if (!this.enabled) return;
    try {
      const res = await fetch(`/live/${encodeURIComponent(this.channel)}/status`, { cache: "no-store" });
      if (!res.ok) return;
      const { live, viewers } = await res.json();
      this.render(live === this.status.live ? { ...this.status, viewers }
        : { live, viewers, bitrate_kbps: null, since: null });
    } catch {
      // offline again: the next connect tries again
    }
  }
}
