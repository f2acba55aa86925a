// "Open overlay pages": the browser sources connected now (GET .../overlays), refreshed every
// REFRESH_MS, so a streamer sees that OBS has its sources before going live. Every field is
// shown as text: the user agent is whatever the page's browser sent.
import { el, byId } from "./dom.js";
import { t } from "./i18n.js";
import { call } from "./api.js";

const REFRESH_MS = 10000;

function row(page) {
  const since = new Date(page.since_ms).toLocaleTimeString();
  const seen = new Date(page.last_seen_ms).toLocaleTimeString();
  return el("li", { "data-role": "overlay-page", "data-widget": page.widget, title: page.user_agent },
    el("strong", { text: page.widget }), " ",
    el("span", { "data-role": "client", text: page.client || t("overlay_page_unknown_client") }), " ",
    el("span", { className: "hint", text: t("overlay_page_times", { since, seen }) }));
}

export class OverlayPagesList {
  constructor() {
    this.list = byId("overlay-pages");
    if (!this.list) return;
    this.refresh();
    setInterval(() => this.refresh(), REFRESH_MS);
  }

  async refresh() {
    try {
      const { pages } = await call("GET", "/overlays");
      this.list.replaceChildren(...(pages.length ? pages.map(row)
        : [el("li", { className: "hint", "data-role": "no-overlay-page", text: t("overlay_pages_none") })]));
    } catch {
      // The list stays as it was; the next refresh tries again.
    }
  }
}
