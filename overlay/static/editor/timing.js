// The channel's alert timing (docs/editor.md), shown with the alert widget but saved apart from
// any preset: every alert box of the channel plays the one queue the server schedules, so a
// duration belongs to the channel. Values are seconds here, milliseconds in the API; an empty
// field sends null, which means config.yaml's value (shown greyed as the placeholder).
import { el, byId, notify } from "../dashboard/dom.js";
import { t } from "../dashboard/i18n.js";
import { act, call } from "../dashboard/api.js";

const PATH = "/alerts/timing";

function seconds(ms) {
  return ms === null || ms === undefined ? "" : String(ms / 1000);
}

function numberField(id, label, limits, value, fallbackMs) {
  const input = el("input", {
    id, type: "number", min: String(limits[0] / 1000), max: String(limits[1] / 1000), step: "any",
    inputmode: "decimal", placeholder: seconds(fallbackMs), value: seconds(value),
  });
  return [el("div", { className: "field" }, el("label", { for: id, text: label }), input), input];
}

export class TimingPanel {
  constructor(tiers, bounds) {
    this.bounds = bounds; // {duration: [min, max], gap: [min, max]} in ms, as config.yaml's
    this.section = byId("timing");
    this.fields = byId("timing-fields");
    this.tierLabels = new Map(tiers.map((tier) => [tier.amount, tier.label]));
    this.inputs = null;
    byId("timing-save").addEventListener("click", (e) => this.save(e.currentTarget));
    byId("timing-reset").addEventListener("click", (e) => this.reset(e.currentTarget));
  }

  async show(visible) {
    this.section.hidden = !visible;
    if (visible) await this.load();
  }

  async load() {
    const data = await act(null, () => call("GET", PATH));
    if (data) this.render(data);
  }

  render(data) {
    const bounds = this.bounds;
    const [durationRow, duration] = numberField("timing-duration", t("timing_duration"), bounds.duration,
      data.duration_ms, data.config.duration_ms);
    const [gapRow, gap] = numberField("timing-gap", t("timing_gap"), bounds.gap, data.gap_ms, data.config.gap_ms);
    const tierRows = data.tiers.map((tier, i) => numberField(`timing-tier-${i}`,
      t("timing_tier", { tier: this.tierLabels.get(tier.min_amount) || tier.min_amount }), bounds.duration,
      tier.duration_ms, data.config.tiers[i].duration_ms ?? data.effective.duration_ms));
    this.inputs = { duration, gap, tiers: tierRows.map(([, input], i) => [data.tiers[i].min_amount, input]) };
    this.fields.replaceChildren(durationRow, gapRow, ...tierRows.map(([row]) => row));
  }

  body() {
    const all = [this.inputs.duration, this.inputs.gap, ...this.inputs.tiers.map(([, input]) => input)];
    const bad = all.find((input) => !input.checkValidity());
    if (bad) {
      notify(t("error", { message: `${bad.labels[0].textContent}: ${bad.validationMessage}` }), "error");
      bad.focus();
      return null;
    }
    const ms = (input) => (input.value.trim() === "" ? null : Math.round(Number(input.value) * 1000));
    return {
      duration_ms: ms(this.inputs.duration), gap_ms: ms(this.inputs.gap),
      tiers: this.inputs.tiers.map(([amount, input]) => ({ min_amount: amount, duration_ms: ms(input) })),
    };
  }

  async save(button) {
    if (!this.inputs) return;
    const body = this.body();
    if (!body) return;
    const data = await act(button, () => call("PUT", PATH, body), t("timing_saved"));
    if (data) this.render(data);
  }

  async reset(button) {
    const data = await act(button, () => call("DELETE", PATH), t("timing_reset_done"));
    if (data) this.render(data);
  }
}
