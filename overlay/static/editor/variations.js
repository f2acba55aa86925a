// The channel's alert variations (docs/editor.md): an ordered list, the first match wins. Like
// the timing, saved apart from any preset: the server chooses the variation when it queues the
// alert, so every alert box of the channel shows the same one.
import { el, byId, notify } from "../dashboard/dom.js";
import { t } from "../dashboard/i18n.js";
import { act, call } from "../dashboard/api.js";
import { fits, shownName } from "./media.js";

const PATH = "/alerts/variations";
const LAYOUTS = ["", "pop", "slide", "fade"];

function field(id, label, input) {
  input.id = id;
  return el("div", { className: "field" }, el("label", { for: id, text: label }), input);
}

function select(options, value) {
  const s = el("select", {}, ...options.map(([v, text]) => el("option", { value: v, text })));
  s.value = value ?? "";
  return s;
}

function text(value, attrs = {}) {
  return el("input", { type: "text", value: value ?? "", ...attrs });
}

const LABELS = { id: "variation_id", min: "variation_min", max: "variation_max", source: "variation_source",
  donor: "variation_donor", biggest: "variation_biggest", incentive: "variation_incentive", test: "variation_test",
  weight: "variation_weight", image: "variation_image", sound: "variation_sound", layout: "variation_layout",
  text: "variation_text", duration: "variation_duration", tts: "variation_tts" };

const orNull = (v) => (v.trim() === "" ? null : v.trim());
const triState = (v) => (v === "" ? null : v === "true");

// A variation as the API takes it, from its inputs: an empty field is null (no condition, unchanged).
function read(inputs) {
  const number = (input, scale = 1) => (input.value === "" ? null : Math.round(Number(input.value) * scale));
  return {
    id: inputs.id.value.trim(),
    when: { min_amount: orNull(inputs.min.value), max_amount: orNull(inputs.max.value),
      source: orNull(inputs.source.value), donor: inputs.donor.value || null, biggest: inputs.biggest.checked,
      incentive: orNull(inputs.incentive.value), test: triState(inputs.test.value), weight: number(inputs.weight) },
    image: inputs.image.value || null, sound: inputs.sound.value || null, layout: inputs.layout.value || null,
    text: inputs.text.value === "" ? null : inputs.text.value,
    duration_ms: number(inputs.duration, 1000), tts: triState(inputs.tts.value),
  };
}

export class VariationsPanel {
  constructor() {
    this.section = byId("variations");
    this.list = byId("variations-list");
    this.items = [];  // each: {row, read()}
    this.media = [];
    byId("variations-add").addEventListener("click", () => this.add({ id: `v${this.items.length + 1}`, when: {} }));
    byId("variations-save").addEventListener("click", (e) => this.save(e.currentTarget));
    byId("variations-reset").addEventListener("click", (e) => this.reset(e.currentTarget));
  }

  async show(visible) {
    this.section.hidden = !visible;
    if (visible) await this.load();
  }

  setMedia(files) {
    this.media = files;
    if (this.items.length) this.render(this.body().variations);
  }

  async load() {
    const data = await act(null, () => call("GET", PATH));
    if (data) this.render(data.variations);
  }

  render(variations) {
    this.items = [];
    this.list.replaceChildren();
    variations.forEach((v) => this.add(v));
  }

  mediaSelect(kind, value) {
    const files = this.media.filter((m) => fits(kind, m)).map((m) => [m.name, shownName(m.name)]);
    return select([["", t("variation_unchanged")], ...files], value);
  }

  // One input per field, keyed as LABELS is.
  inputs(v) {
    const w = v.when || {};
    const optional = (value) => (value === null || value === undefined ? "" : String(value));
    return {
      id: text(v.id, { required: true, pattern: "[a-z0-9_\\-]{1,32}" }),
      min: text(w.min_amount, { inputmode: "decimal" }), max: text(w.max_amount, { inputmode: "decimal" }),
      source: text(w.source), incentive: text(w.incentive),
      donor: select([["", t("variation_any")], ["first", t("variation_first")], ["repeat", t("variation_repeat")]], w.donor),
      biggest: el("input", { type: "checkbox", checked: Boolean(w.biggest) }),
      test: select([["", t("variation_any")], ["true", t("variation_test_only")], ["false", t("variation_no_test")]],
        optional(w.test)),
      weight: el("input", { type: "number", min: "1", step: "1", value: w.weight ?? "" }),
      image: this.mediaSelect("image", v.image), sound: this.mediaSelect("sound", v.sound),
      layout: select(LAYOUTS.map((l) => [l, l || t("variation_unchanged")]), v.layout),
      text: text(v.text, { maxlength: "200", placeholder: t("variation_text_hint") }),
      duration: el("input", { type: "number", min: "1", max: "120", step: "any",
        value: v.duration_ms ? v.duration_ms / 1000 : "" }),
      tts: select([["", t("variation_unchanged")], ["true", t("variation_tts_on")], ["false", t("variation_tts_off")]],
        optional(v.tts)),
    };
  }

  add(v) {
    const i = this.items.length;
    const inputs = this.inputs(v);
    const button = (label, action) => el("button", { type: "button", className: "small", text: t(label), onclick: action });
    const row = el("li", { className: "variation" },
      el("div", { className: "variation__fields" },
        ...Object.entries(inputs).map(([k, input]) => field(`variation-${i}-${k}`, t(LABELS[k]), input))),
      el("div", { className: "buttons" },
        button("variation_up", () => this.move(item, -1)), button("variation_down", () => this.move(item, 1)),
        button("variation_remove", () => this.remove(item)),
        button("variation_try", (e) => this.tryOut(item, e.currentTarget))));
    const item = { row, read: () => read(inputs) };
    this.items.push(item);
    this.list.append(row);
  }

  move(item, by) {
    const variations = this.body().variations;
    const from = this.items.indexOf(item);
    const to = from + by;
    if (to < 0 || to >= variations.length) return;
    [variations[from], variations[to]] = [variations[to], variations[from]];
    this.render(variations);
  }

  remove(item) {
    this.render(this.body().variations.filter((_, i) => this.items[i] !== item));
  }

  body() {
    return { variations: this.items.map((item) => item.read()) };
  }

  async save(button, quiet = false) {
    const data = await act(button, () => call("PUT", PATH, this.body()), quiet ? undefined : t("variations_saved"));
    if (data) this.render(data.variations);
    return data;
  }

  async reset(button) {
    const data = await act(button, () => call("DELETE", PATH), t("variations_reset_done"));
    if (data) this.render(data.variations);
  }

  // Save, then send a test donation that meets the variation's conditions: the preview shows it.
  async tryOut(item, button) {
    const v = item.read();
    if (!(await this.save(button, true))) return;
    const w = v.when;
    const body = { amount: w.min_amount || w.max_amount || "5.00", test: true, source: w.source || "test",
      donor_name: t("test_name"), message: t("test_message") };
    if (w.incentive) body.incentive = { id: w.incentive };
    const sent = await act(button, () => call("POST", "/donations", body), t("test_sent"));
    if (sent && w.test === false) notify(t("variation_test_never"), "error");
  }
}
