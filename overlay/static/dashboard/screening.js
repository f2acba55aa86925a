// The screening queue: held donations, oldest first, with banned words marked.
// Their money already counts; Approve lets the alert and message out, Reject never does.
import { el, byId, bannedPattern, highlighted } from "./dom.js";
import { t } from "./i18n.js";
import { act, call } from "./api.js";
import { donorName } from "./feed.js";

export class Screening {
  constructor(bannedWords, lang) {
    this.list = byId("held-list");
    this.items = new Map(); // id -> <li>
    this.pattern = bannedPattern(bannedWords);
    this.clock = new Intl.DateTimeFormat(lang, { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });
  }

  reset() {
    this.list.replaceChildren();
    this.items.clear();
    this.update();
  }

  upsert(d) {
    if (d.status === "held" && !this.items.has(d.id)) {
      const item = this.card(d);
      this.items.set(d.id, item);
      let before = this.list.firstElementChild;
      while (before && Number(before.dataset.seq) < d.seq) before = before.nextElementSibling;
      this.list.insertBefore(item, before);
    } else if (d.status !== "held" && this.items.has(d.id)) {
      this.remove(d.id);
    }
    this.update();
  }

  card(d) {
    // What the donor actually wrote (moderators only), not the masked copy overlays would get.
    const text = d.original_message ?? d.message;
    const headingId = `held-${d.id}`;
    const message = text
      ? el("p", { className: "held-message" }, highlighted(text, this.pattern))
      : el("p", { className: "held-message muted", text: t("no_message") });
    return el("li", { className: "held", "data-id": d.id, "data-seq": String(d.seq), "aria-labelledby": headingId },
      el("p", { className: "held-who", id: headingId },
        el("strong", { text: donorName(d) }), " · ", d.display.amount, " · ",
        el("time", { datetime: d.created_at, text: this.clock.format(new Date(d.created_at)) }),
        d.flagged ? el("span", { className: "badge warn", text: t("flagged") }) : null),
      message,
      el("div", { className: "buttons" },
        this.button(d, "approve", "primary"), this.button(d, "reject", "danger")));
  }

  button(d, verdict, style) {
    return el("button", {
      type: "button", className: `big-button ${style}`, text: t(verdict),
      onclick: (e) => act(e.currentTarget, () => call("POST", `/donations/${encodeURIComponent(d.id)}/${verdict}`)),
    });
  }

  remove(id) {
    const item = this.items.get(id);
    this.items.delete(id);
    // Keep the keyboard where the moderator works: on the next held message, or the heading.
    if (item.contains(document.activeElement)) {
      const next = item.nextElementSibling || item.previousElementSibling;
      const target = next ? next.querySelector("button") : byId("screening-h");
      item.remove();
      if (!next) target.tabIndex = -1;
      target.focus();
    } else {
      item.remove();
    }
  }

  update() {
    byId("screening-empty").hidden = this.items.size > 0;
    byId("held-count").textContent = this.items.size ? String(this.items.size) : "";
  }
}
