// The Donation sources panel: each source's health (GET .../integrations, refreshed every
// REFRESH_MS and after a test), its silence warning, and a "Send test event" button for a
// webhook; a polled or connected source (kind "source") shows its state instead.
import { el, byId, notify } from "./dom.js";
import { t } from "./i18n.js";
import { act, call } from "./api.js";

const REFRESH_MS = 30000;

function subscriptionKey(sub) {
  if (sub.active) return "integration_enabled";
  return sub.status === "reactivated" ? "integration_reactivated" : "integration_revoked";
}

export class IntegrationsPanel {
  constructor() {
    this.list = byId("integration-list");
    if (!this.list) return;
    this.refresh();
    setInterval(() => this.refresh(), REFRESH_MS);
  }

  async refresh() {
    try {
      const data = await call("GET", "/integrations");
      this.render(data.integrations.filter((i) => i.configured || i.subscriptions.length));
    } catch {
      // The server-rendered list stays; the next refresh tries again.
    }
  }

  render(sources) {
    this.list.replaceChildren(...sources.flatMap((s) => this.rows(s)));
  }

  rows(source) {
    const h = source.health;
    const polled = source.kind === "source";
    const last = h.last_delivery ? new Date(h.last_delivery).toLocaleString() : t("integration_never");
    const state = source.state ? t(`source_state_${source.state.state}`) : t("source_state_waiting");
    const line = t(polled ? "integration_source_health" : "integration_health",
      { state, last, accepted: h.accepted, refused: h.refused, failed: h.failed });
    const button = source.configured && !polled ? el("button", {
      type: "button", className: "integration-test", "data-provider": source.provider, text: t("integration_test"),
      onclick: (ev) => this.test(ev.currentTarget, source.provider),
    }) : null;
    const rows = [el("li", { "data-provider": source.provider, "data-role": "source",
      "data-state": source.state ? source.state.state : null,
      className: polled && !["polling", "connected"].includes(source.state?.state) ? "error" : null },
      el("strong", { text: source.provider }), " ", el("code", { text: source.url }), " ", button,
      el("br"), el("span", { className: "integration-health", text: line }))];
    if (h.silent) {
      rows.push(el("li", { className: "error integration-silent", role: "alert", "data-provider": source.provider,
        text: t(polled ? "integration_source_silent" : "integration_silent",
          { provider: source.provider, minutes: h.silence_warning_min }) }));
    }
    for (const sub of source.subscriptions) {
      rows.push(el("li", { "data-provider": source.provider, "data-status": sub.status,
        className: sub.active ? null : "error",
        text: `${source.provider} ${sub.type}: ${t(subscriptionKey(sub))} ` +
              `(${sub.status}, ${sub.at})` }));
    }
    return rows;
  }

  async test(button, provider) {
    const result = await act(button, () => call("POST", `/integrations/${encodeURIComponent(provider)}/test`));
    if (!result) return;
    const key = result.ok ? "integration_test_ok" : "integration_test_failed";
    notify(t(key, { provider, status: result.status, answer: result.answer }), result.ok ? "ok" : "error");
    this.refresh();
  }
}
