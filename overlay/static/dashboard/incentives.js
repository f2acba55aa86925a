// Incentives panel: the channel's targets, polls and rewards live; create, edit, close,
// reopen, delete; move a donation to another incentive. Every action goes through the REST API.
import { el, byId, decimalInput } from "./dom.js";
import { t } from "./i18n.js";
import { act, call } from "./api.js";
import { choiceLabel, donorName } from "./feed.js";
import { copy } from "./links.js";

const KINDS = ["target", "poll", "reward"];
// The widget that shows one incentive of a kind, and the setting that names it.
const OVERLAY = { poll: ["poll", "poll"], target: ["targets", "target"] };

function slug(label, taken) {
  const base = label.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
    .replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 28) || "option";
  let id = base;
  for (let n = 2; taken.has(id); n += 1) id = `${base}-${n}`;
  taken.add(id);
  return id;
}

function summary(i) {
  if (i.kind === "target") return t("target_summary", { total: i.display.total, amount: i.display.amount });
  if (i.kind === "reward") {
    const left = i.remaining === null ? "" : ` · ${t("reward_left", { n: i.remaining })}`;
    return t("reward_summary", { min: i.display.min_amount, claimed: i.claimed }) + left;
  }
  const label = (id) => (i.options.find((o) => o.id === id) || {}).label;
  if (i.winner) return t("poll_winner", { label: label(i.winner) });
  if (!i.leader) return t("poll_empty");
  const unallocated = Number(i.unallocated) > 0 ? ` · ${t("poll_unallocated", { amount: i.display_unallocated })}` : "";
  return `${t("poll_summary", { leader: label(i.leader), margin: i.display_margin })} · ${
    i.options.map((o) => `${o.label} ${o.display}`).join(" · ")}${unallocated}`;
}

// A poll's waiting suggestions (moderators only): accept, merge into an option, or reject.
async function suggestionList(i) {
  const list = el("ul", { className: "suggestions", "aria-label": `${t("suggestions_heading")} · ${i.title}` });
  const { suggestions } = await call("GET", `/incentives/${encodeURIComponent(i.id)}/suggestions`);
  const path = (s, verdict) => `/incentives/${encodeURIComponent(i.id)}/suggestions/${encodeURIComponent(s.donation_id)}/${verdict}`;
  for (const s of suggestions) {
    const into = el("select", { "aria-label": `${t("suggestion_merge")} · ${s.text}` },
      ...i.options.map((o) => el("option", { value: o.id, text: o.label })));
    const button = (key, run, done) => el("button", { type: "button", className: "small", text: t(key),
      "aria-label": `${t(key)} ${s.text}`, onclick: (e) => act(e.currentTarget, run, t(done)) });
    list.append(el("li", { className: "suggestion", "data-donation": s.donation_id },
      el("span", { className: "suggestion-text", text: `${s.text} · ${s.display}` }),
      button("suggestion_accept", () => call("POST", path(s, "accept")), "suggestion_accepted"),
      into, button("suggestion_merge", () => call("POST", path(s, "merge"), { option: into.value }), "suggestion_merged"),
      button("suggestion_reject", () => call("POST", path(s, "reject")), "suggestion_rejected")));
  }
  return suggestions.length ? [el("p", { className: "muted", text: t("suggestions_heading") }), list] : [];
}

export class IncentivesPanel {
  constructor(donations, widgets = []) {
    this.donations = donations; // the dashboard's map of known donations (id -> donation)
    this.widgetUrls = new Map(widgets.map((w) => [w.name, w.url]));
    this.items = new Map();
    this.editing = null;
    this.form = byId("incentive-form");
    this.form.addEventListener("submit", (e) => this.save(e));
    byId("incentive-kind").addEventListener("change", () => this.showKindFields());
    byId("incentive-cancel").addEventListener("click", () => this.resetForm());
    byId("move-form").addEventListener("submit", (e) => this.move(e));
    this.showKindFields();
  }

  reset(list) {
    this.items = new Map((list || []).map((i) => [i.id, i]));
    this.render();
  }

  update(i) {
    if (i.removed) this.items.delete(i.id);
    else this.items.set(i.id, i);
    this.render();
  }

  render() {
    const rows = [...this.items.values()].map((i) => this.row(i));
    byId("incentive-list").replaceChildren(...rows);
    byId("incentives-empty").hidden = rows.length > 0;
    this.fillMoveTargets();
  }

  row(i) {
    const badges = [el("span", { className: "badge", text: t(`kind_${i.kind}`) }),
      el("span", { className: `badge ${i.open ? "ok" : "warn"}`, text: t(i.open ? "incentive_open" : "incentive_closed") })];
    if (i.reached) badges.push(el("span", { className: "badge ok", text: t("incentive_reached") }));
    const button = (key, run, done, className = "small") => el("button", {
      type: "button", className, text: t(key), "aria-label": `${t(key)} ${i.title}`,
      onclick: (e) => act(e.currentTarget, run, done ? t(done) : null),
    });
    const waiting = el("div", { className: "suggestion-box" });
    if (i.kind === "poll" && i.allow_suggestions) {
      suggestionList(i).then((nodes) => waiting.replaceChildren(...nodes)).catch(() => {});
    }
    return el("li", { className: `incentive${i.open ? "" : " is-closed"}`, "data-id": i.id },
      el("div", { className: "incentive-head" }, el("span", { className: "incentive-title", text: i.title }), ...badges),
      el("p", { className: "incentive-summary", text: summary(i) }),
      waiting,
      ...this.overlayLink(i),
      el("div", { className: "buttons" },
        button("incentive_edit", async () => this.edit(i)),
        i.open ? button("incentive_close", () => this.patch(i.id, { open: false }), "incentive_closed_done")
          : button("incentive_reopen", () => this.patch(i.id, { open: true }), "incentive_reopened"),
        button("incentive_delete", () => this.remove(i), null, "small danger")));
  }

  // The browser-source address that shows this incentive alone (OBS: one source per poll).
  overlayLink(i) {
    const [widget, setting] = OVERLAY[i.kind] || [];
    const base = this.widgetUrls.get(widget);
    if (!base) return [];
    const name = t("incentive_overlay", { title: i.title });
    const input = el("input", { type: "text", readonly: true, value: `${base}&${setting}=${encodeURIComponent(i.id)}`,
      "aria-label": name, spellcheck: "false" });
    return [el("div", { className: "incentive-url" }, input, el("button", { type: "button", className: "small",
      text: t("copy"), "aria-label": t("copy_label", { name: i.title }), onclick: () => copy(input, i.title) }))];
  }

  patch(id, body) {
    return call("PATCH", `/incentives/${encodeURIComponent(id)}`, body);
  }

  async remove(i) {
    if (!window.confirm(t("incentive_delete_confirm", { title: i.title }))) return;
    await call("DELETE", `/incentives/${encodeURIComponent(i.id)}`);
    if (this.editing === i.id) this.resetForm();
  }

  showKindFields() {
    const kind = byId("incentive-kind").value;
    for (const node of this.form.querySelectorAll("[data-kinds]")) node.hidden = node.dataset.kinds !== kind;
  }

  edit(i) {
    this.editing = i.id;
    byId("incentive-editor-title").textContent = t("incentive_edit_heading", { title: i.title });
    byId("incentive-kind").value = i.kind;
    byId("incentive-kind").disabled = true;
    byId("incentive-id").value = i.id;
    byId("incentive-id").readOnly = true;
    byId("incentive-title").value = i.title;
    byId("incentive-amount").value = i.amount || "";
    byId("incentive-options").value = (i.options || []).map((o) => o.label).join("\n");
    byId("incentive-min").value = i.min_amount || "";
    byId("incentive-quantity").value = i.quantity ?? "";
    byId("incentive-ends").value = i.ends_at ? i.ends_at.slice(0, 16) : "";
    this.showKindFields();
    byId("incentive-editor").open = true;
    byId("incentive-title").focus();
  }

  resetForm() {
    this.editing = null;
    this.form.reset();
    byId("incentive-editor-title").textContent = t("incentive_new");
    byId("incentive-kind").disabled = false;
    byId("incentive-id").readOnly = false;
    this.showKindFields();
  }

  // Poll options keep their ids (and their money) when their label is unchanged.
  options(kept) {
    const byLabel = new Map((kept || []).map((o) => [o.label, o.id]));
    const taken = new Set();
    return byId("incentive-options").value.split("\n").map((l) => l.trim()).filter(Boolean).map((label) => {
      const id = byLabel.get(label) && !taken.has(byLabel.get(label)) ? byLabel.get(label) : slug(label, taken);
      taken.add(id);
      return { id, label };
    });
  }

  body() {
    const kind = byId("incentive-kind").value;
    const ends = byId("incentive-ends").value;
    const body = { title: byId("incentive-title").value.trim(), ends_at: ends ? new Date(ends).toISOString() : null };
    if (kind === "target") body.amount = decimalInput(byId("incentive-amount").value);
    if (kind === "poll") body.options = this.options(this.editing && this.items.get(this.editing).options);
    if (kind === "reward") {
      body.min_amount = decimalInput(byId("incentive-min").value);
      const q = byId("incentive-quantity").value.trim();
      body.quantity = q ? Number(q) : null;
    }
    return { kind, body };
  }

  async save(event) {
    event.preventDefault();
    const { kind, body } = this.body();
    const run = this.editing ? () => this.patch(this.editing, body)
      : () => call("POST", "/incentives", { id: byId("incentive-id").value.trim(), kind, ...body });
    if (await act(event.submitter, run, t("incentive_saved"))) {
      this.resetForm();
      byId("incentive-editor").open = false;
    }
  }

  fillMoveTargets() {
    const target = byId("move-to");
    const kept = target.value;
    const entries = [el("option", { value: "", text: t("move_none") })];
    for (const i of this.items.values()) {
      if (!KINDS.includes(i.kind)) continue;
      if (i.kind === "poll") for (const o of i.options) entries.push(el("option", { value: `${i.id}:${o.id}`, text: `${i.title} → ${o.label}` }));
      else entries.push(el("option", { value: i.id, text: i.title }));
    }
    target.replaceChildren(...entries);
    target.value = kept;
  }

  // The donations a moderator may want to move: the latest ones the dashboard knows.
  fillMoveDonations() {
    const select = byId("move-donation");
    const kept = select.value;
    // A test donation counts toward nothing: there is nothing to move.
    const latest = [...this.donations.values()].filter((d) => d.status !== "refunded" && !d.test)
      .sort((a, b) => b.seq - a.seq).slice(0, 50);
    select.replaceChildren(...latest.map((d) => el("option", {
      value: d.id, text: `${donorName(d)} · ${d.display.amount}${d.incentive ? ` · ${choiceLabel(d.incentive)}` : ""}`,
    })));
    if (kept) select.value = kept;
  }

  async move(event) {
    event.preventDefault();
    const id = byId("move-donation").value;
    if (!id) return;
    const [incentive, option] = byId("move-to").value.split(":");
    const body = incentive ? { id: incentive, ...(option ? { option } : {}) } : { id: null };
    await act(event.submitter, () => call("POST", `/donations/${encodeURIComponent(id)}/incentive`, body), t("moved"));
  }
}
