// The live feed: every donation the dashboard knows, newest first, filterable by status and donor.
import { el, byId } from "./dom.js";
import { t } from "./i18n.js";
import { act, call } from "./api.js";

const MAX_ROWS = 500;

export function donorName(d) {
  return d.donor_name || t("anonymous");
}

// What the donor chose overlays to show, when it is not everything (moderators see all).
function shownAs(d) {
  const parts = [];
  if (d.display_name && d.display_name !== "full") parts.push(t("shown_as", { name: d.public_name || t("anonymous") }));
  if (d.show_amount === false) parts.push(t("amount_hidden"));
  return parts.join(" · ");
}

export function choiceLabel(chosen) {
  return chosen.label ? `${chosen.title} → ${chosen.label}` : chosen.title;
}

export function statusBadge(d) {
  const out = document.createDocumentFragment();
  out.append(el("span", { className: `status s-${d.status}`, text: t(`status_${d.status}`) }));
  if (d.test) out.append(" ", el("span", { className: "badge test", text: t("test_badge") }));
  return out;
}

export class Feed {
  constructor(lang) {
    this.body = byId("feed-body");
    this.rows = new Map(); // id -> {row, donation}
    this.clock = new Intl.DateTimeFormat(lang, { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });
    this.status = byId("feed-status");
    this.search = byId("feed-search");
    this.status.addEventListener("change", () => this.filterAll());
    this.search.addEventListener("input", () => this.filterAll());
  }

  reset() {
    this.body.replaceChildren();
    this.rows.clear();
    this.updateEmpty();
  }

  upsert(d) {
    const known = this.rows.get(d.id);
    if (known) {
      const statusChanged = known.donation.status !== d.status;
      known.donation = d;
      this.fill(known.row, d, statusChanged);
    } else {
      const row = el("tr", { "data-id": d.id, "data-seq": String(d.seq) });
      for (let i = 0; i < 7; i += 1) row.append(el("td"));
      this.rows.set(d.id, { row, donation: d });
      this.fill(row, d, true);
      this.place(row, d.seq);
      this.trim();
    }
    this.filterRow(this.rows.get(d.id));
    this.updateEmpty();
  }

  fill(row, d, rebuildActions) {
    const [time, donor, amount, matched, source, status, actions] = row.cells;
    time.textContent = this.clock.format(new Date(d.created_at));
    // The message sits under the name: one column less, so the actions fit beside OBS.
    donor.replaceChildren(el("span", { className: d.donor_name ? "name" : "name anon", text: donorName(d) }));
    if (d.message) donor.append(el("span", { className: "msg", text: d.message, title: d.message }));
    if (d.incentive) donor.append(el("span", { className: "incentive-tag", text: choiceLabel(d.incentive) }));
    const shown = shownAs(d);
    if (shown) donor.append(el("span", { className: "shown-tag", text: shown }));
    amount.className = "num";
    amount.replaceChildren(d.display.amount);
    if (d.original_currency !== d.currency) {
      amount.append(" ", el("small", { text: `(${d.original_amount} ${d.original_currency})` }));
    }
    matched.className = "num";
    matched.textContent = Number(d.matched) > 0 ? d.display.matched : "—";
    source.textContent = d.source;
    status.replaceChildren(statusBadge(d));
    row.classList.toggle("is-test", Boolean(d.test));
    if (rebuildActions) this.fillActions(actions, d);
  }

  fillActions(cell, d) {
    const hadFocus = cell.contains(document.activeElement);
    cell.replaceChildren();
    cell.className = "actions";
    let buttons = [];
    if (d.status === "approved") buttons = [this.action(d, "replay", "small", t("done"))];
    // A pledge is a promise: it counts (totals, match, alert) only once a moderator confirms it.
    if (d.status === "pending") {
      buttons = [this.action(d, "confirm", "small primary", t("confirmed")),
        this.action(d, "reject", "small danger", t("pledge_rejected"))];
    }
    cell.append(...buttons);
    if (hadFocus && buttons.length) buttons[0].focus();
  }

  action(d, name, className, doneMessage) {
    // Several rows carry the same buttons: a screen reader says whose pledge each one is for.
    const vars = { name: donorName(d), amount: d.display.amount };
    const label = d.status === "pending" ? { "aria-label": t(`${name}_pledge`, vars) } : {};
    return el("button", {
      type: "button", className, text: t(name), ...label,
      onclick: (e) => act(e.currentTarget, () => call("POST", `/donations/${encodeURIComponent(d.id)}/${name}`), doneMessage),
    });
  }

  place(row, seq) {
    let before = this.body.firstElementChild;
    while (before && Number(before.dataset.seq) > seq) before = before.nextElementSibling;
    this.body.insertBefore(row, before);
  }

  trim() {
    while (this.rows.size > MAX_ROWS) {
      const last = this.body.lastElementChild;
      this.rows.delete(last.dataset.id);
      last.remove();
    }
  }

  matches(d) {
    const wanted = this.status.value;
    if (wanted === "test" ? !d.test : wanted && d.status !== wanted) return false;
    const query = this.search.value.trim().toLocaleLowerCase();
    return !query || donorName(d).toLocaleLowerCase().includes(query);
  }

  filterRow(entry) {
    entry.row.hidden = !this.matches(entry.donation);
  }

  filterAll() {
    for (const entry of this.rows.values()) this.filterRow(entry);
    this.updateEmpty();
  }

  updateEmpty() {
    const empty = byId("feed-empty");
    const visible = [...this.rows.values()].some((e) => !e.row.hidden);
    empty.hidden = visible;
    empty.textContent = this.rows.size ? t("feed_none_match") : t("feed_empty");
  }
}
