// Rewards to fulfil: every reward claim with its donor, ticked once given (kept on the server).
import { el, byId } from "./dom.js";
import { t } from "./i18n.js";
import { act, call } from "./api.js";
import { donorName } from "./feed.js";

export class RewardsList {
  constructor() {
    this.pending = null;
  }

  // Claims change with donations, refunds and moves: fetch the list again, at most one at a time.
  refresh() {
    if (this.pending) return this.pending;
    this.pending = call("GET", "/rewards")
      .then((data) => this.render(data.rewards))
      .catch(() => null)
      .finally(() => { this.pending = null; });
    return this.pending;
  }

  render(rewards) {
    const rows = rewards.map((r) => {
      const d = r.donation;
      const box = el("input", {
        type: "checkbox", checked: r.fulfilled, "aria-label": `${t("reward_done")}: ${donorName(d)}, ${r.incentive.title}`,
        onchange: (e) => this.mark(e.currentTarget, d.id),
      });
      return el("li", { "data-id": d.id }, el("label", { className: r.fulfilled ? "done" : "" }, box,
        el("span", { text: `${donorName(d)} · ${d.display.amount} · ${r.incentive.title}` })));
    });
    byId("reward-list").replaceChildren(...rows);
    byId("rewards-empty").hidden = rows.length > 0;
    byId("rewards-count").textContent = String(rewards.filter((r) => !r.fulfilled).length);
  }

  async mark(box, donationId) {
    const fulfilled = box.checked;
    const done = await act(box, () => call("POST", `/donations/${encodeURIComponent(donationId)}/reward`, { fulfilled }),
      t(fulfilled ? "reward_marked" : "reward_unmarked"));
    if (!done) box.checked = !fulfilled;
    box.closest("label").classList.toggle("done", box.checked);
  }
}
