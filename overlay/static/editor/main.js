// The widget editor: pick a widget and a preset, change settings in a generated form,
// watch them in a live preview (the real overlay, unsaved settings in its URL), send a
// test donation, save the preset: every overlay showing it changes without a reload.
import { el, byId, notify } from "../dashboard/dom.js";
import { setStrings, t } from "../dashboard/i18n.js";
import { act, call, setChannel } from "../dashboard/api.js";
import { SettingsForm } from "./form.js";
import { MediaLibrary } from "./media.js";
import { TimingPanel } from "./timing.js";
import { VariationsPanel } from "./variations.js";

const data = JSON.parse(byId("editor-data").textContent);
setStrings(data.strings, data.lang);
setChannel(data.channel);

const widgets = new Map(data.widgets.map((w) => [w.name, w]));
const frame = byId("editor-frame");
const stage = byId("stage");
const presetSelect = byId("preset-select");
const presetName = byId("preset-name");
let widget = data.widgets[0];
let presets = new Map();
let previewTimer = null;

const form = new SettingsForm(byId("settings-form"), () => schedulePreview());
const variations = new VariationsPanel();
const library = new MediaLibrary(data.channel, (files) => { form.setMedia(files); variations.setMedia(files); });
const timing = new TimingPanel(data.tiers, data.timing_bounds);

// What differs from the channel's own settings: what a preset (and the preview URL) carries.
function changed() {
  const values = form.values();
  return Object.fromEntries(Object.entries(values)
    .filter(([k, v]) => JSON.stringify(v) !== JSON.stringify(widget.configured[k])));
}

function overlayPath(params) {
  const query = new URLSearchParams({ key: data.key });
  for (const [k, v] of Object.entries(params)) query.set(k, Array.isArray(v) ? v.join(",") : v ?? "");
  return `/overlay/${encodeURIComponent(data.channel)}/${encodeURIComponent(widget.name)}?${query}`;
}

function schedulePreview() {
  clearTimeout(previewTimer);
  previewTimer = setTimeout(() => { frame.src = overlayPath(changed()); }, 250);
}

function fitStage() {
  frame.style.transform = `scale(${stage.clientWidth / 1920})`;
}

function showUrl(name) {
  byId("preset-url").value = name ? `${data.public_url}${overlayPath({ preset: name })}` : "";
}

function choosePreset(name) {
  presetSelect.value = name;
  presetName.value = name;
  form.set({ ...widget.configured, ...(presets.get(name) || {}) });
  showUrl(presets.has(name) ? name : "");
  byId("delete").hidden = !presets.has(name);
  schedulePreview();
}

async function loadPresets(select = "") {
  const found = await act(null, () => call("GET", `/widgets/${encodeURIComponent(widget.name)}/presets`));
  presets = new Map((found ? found.presets : []).map((p) => [p.name, p.settings]));
  presetSelect.replaceChildren(el("option", { value: "", text: t("new_preset") }),
    ...[...presets.keys()].map((n) => el("option", { value: n, text: n })));
  choosePreset(presets.has(select) ? select : "");
}

async function chooseWidget(name) {
  widget = widgets.get(name);
  form.build(widget, data.tiers);
  form.setMedia(library.files);
  variations.setMedia(library.files);
  await Promise.all([loadPresets(), timing.show(name === "alert"), variations.show(name === "alert")]);
}

async function save(button) {
  const name = presetName.value.trim();
  if (!presetName.checkValidity() || !name) {
    notify(t("error", { message: t("preset_name_help") }), "error");
    presetName.focus();
    return;
  }
  const path = `/widgets/${encodeURIComponent(widget.name)}/presets/${encodeURIComponent(name)}`;
  const done = await act(button, () => call("PUT", path, changed()), t("saved", { name }));
  if (done) await loadPresets(name);
}

async function remove(button) {
  const name = presetSelect.value;
  if (!name) return;
  const path = `/widgets/${encodeURIComponent(widget.name)}/presets/${encodeURIComponent(name)}`;
  const done = await act(button, () => call("DELETE", path), t("deleted", { name }));
  if (done !== undefined) await loadPresets();
}

async function sendTest(button) {
  const body = { amount: byId("test-amount").value, test: true, source: "test",
    donor_name: t("test_name"), message: t("test_message") };
  await act(button, () => call("POST", "/donations", body), t("test_sent"));
}

async function copyUrl() {
  const input = byId("preset-url");
  if (!input.value) return;
  try {
    await navigator.clipboard.writeText(input.value);
    notify(t("copied"));
  } catch {
    input.focus();
    input.select();
    notify(t("copy_failed"), "error");
  }
}

byId("widget-select").replaceChildren(...data.widgets.map((w) => el("option", { value: w.name, text: w.name })));
byId("widget-select").addEventListener("change", (e) => chooseWidget(e.target.value));
byId("test-amount").replaceChildren(...data.tiers.map((tier) => el("option", { value: tier.amount, text: tier.label })));
presetSelect.addEventListener("change", () => choosePreset(presetSelect.value));
byId("save").addEventListener("click", (e) => save(e.currentTarget));
byId("delete").addEventListener("click", (e) => remove(e.currentTarget));
byId("reset").addEventListener("click", () => { form.set(widget.configured); schedulePreview(); });
byId("send-test").addEventListener("click", (e) => sendTest(e.currentTarget));
byId("copy-url").addEventListener("click", copyUrl);
for (const button of document.querySelectorAll("[data-backdrop]")) {
  button.addEventListener("click", () => {
    stage.dataset.backdrop = button.dataset.backdrop;
    for (const b of document.querySelectorAll("[data-backdrop]")) b.setAttribute("aria-pressed", String(b === button));
  });
}
new ResizeObserver(fitStage).observe(stage);

await chooseWidget(widget.name);
await library.load();
document.documentElement.dataset.ready = "true";
