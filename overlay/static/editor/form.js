// A widget's settings form, generated from its Settings JSON schema (the same model that
// checks URL settings and presets on the server), so a new setting needs no editor change.
import { el } from "../dashboard/dom.js";
import { t } from "../dashboard/i18n.js";
import { fits, shownName } from "./media.js";

const GROUPS = [
  ["group_look", ["lang", "theme", "panel", "font", "accent_color", "second_color", "font_scale", "position",
    "animation", "width", "qr_size"]],
  ["group_media", ["tier_images", "tier_sounds"]],
  ["group_advanced", ["custom_css"]],
];
const TIER_FIELDS = { tier_images: "image", tier_sounds: "sound" };

function groupOf(name) {
  const found = GROUPS.find(([, names]) => names.includes(name));
  return found ? found[0] : "group_content";
}

function label(name, schema) {
  const key = `field_${name}`;
  const text = t(key);
  return text === key ? (schema.description || name) : text;
}

// Optional text (Text in widgets/base.py) is anyOf [string, null].
function base(schema) {
  return schema.anyOf ? { ...schema, ...schema.anyOf.find((s) => s.type !== "null") } : schema;
}

function optionLabel(name, value) {
  if (name === "lang") return value === "auto" ? t("lang_auto") : value;
  const key = `opt_${value}`;
  const text = t(key);
  return text === key ? value : text;
}

function input(name, schema) {
  const s = base(schema);
  const id = `f-${name}`;
  if (s.enum) {
    const options = s.enum.map((v) => el("option", { value: v, text: optionLabel(name, v) }));
    return el("select", { id, name }, ...options);
  }
  if (s.type === "boolean") return el("input", { id, name, type: "checkbox" });
  if (s.type === "number") return el("input", { id, name, type: "range", min: s.minimum, max: s.maximum, step: "0.05" });
  if (s.type === "integer") return el("input", { id, name, type: "number", min: s.minimum, max: s.maximum, step: "1" });
  if (name.endsWith("_color")) return el("input", { id, name, type: "color" });
  if (name === "custom_css") return el("textarea", { id, name, rows: "4", spellcheck: "false", maxlength: s.maxLength });
  return el("input", { id, name, type: "text", maxlength: s.maxLength, autocomplete: "off" });
}

export class SettingsForm {
  constructor(form, onChange) {
    this.form = form;
    this.onChange = onChange;
    this.fields = new Map();   // name -> {schema, node, out?}
    this.tierSelects = new Map(); // tier field -> [select per tier]
    this.media = [];
    form.addEventListener("input", () => this.onChange());
    form.addEventListener("change", () => this.onChange());
  }

  build(widget, tiers) {
    this.fields.clear();
    this.tierSelects.clear();
    const groups = new Map();
    const props = widget.schema.properties;
    // The model's own order (the schema's is alphabetical), the look's fields in GROUPS order.
    const look = GROUPS[0][1];
    const rank = (n) => (look.includes(n) ? look.indexOf(n) : look.length + widget.order.indexOf(n));
    for (const name of [...widget.order].sort((a, b) => rank(a) - rank(b))) {
      const schema = props[name];
      const g = groupOf(name);
      if (!groups.has(g)) groups.set(g, el("fieldset", {}, el("legend", { text: t(g) })));
      if (name in TIER_FIELDS) continue;
      const node = input(name, schema);
      const check = node.type === "checkbox";
      const out = node.type === "range" ? el("output", { className: "value", for: node.id }) : null;
      groups.get(g).append(check
        ? el("div", { className: "field check" }, node, el("label", { for: node.id, text: label(name, schema) }))
        : el("div", { className: "field" }, el("label", { for: node.id, text: label(name, schema) }), node, out));
      this.fields.set(name, { schema, node, out });
    }
    const tierFields = Object.keys(TIER_FIELDS).filter((f) => f in props);
    if (tierFields.length) groups.get("group_media").append(...this.tierRows(tierFields, tiers));
    const order = ["group_look", "group_content", "group_media", "group_advanced"];
    this.form.replaceChildren(...order.filter((g) => groups.has(g)).map((g) => groups.get(g)));
  }

  tierRows(tierFields, tiers) {
    for (const f of tierFields) this.tierSelects.set(f, []);
    return tiers.map((tier, i) => el("div", { className: "tier-row", role: "group", "aria-label": tier.label },
      el("span", { text: tier.label }),
      ...tierFields.map((f) => {
        const select = el("select", { id: `f-${f}-${i}`, "aria-label": `${tier.label} · ${t(`field_${f}`)}` });
        this.tierSelects.get(f).push(select);
        return select;
      })));
  }

  // The library's files as choices; what was chosen stays chosen.
  setMedia(files) {
    this.media = files;
    for (const [field, selects] of this.tierSelects) {
      const kind = TIER_FIELDS[field];
      for (const select of selects) {
        const keep = select.value;
        select.replaceChildren(el("option", { value: "", text: t("tier_default") }),
          ...files.filter((m) => fits(kind, m)).map((m) => el("option", { value: m.name, text: shownName(m.name) })));
        select.value = keep;
        if (select.value !== keep) select.value = "";
      }
    }
  }

  set(values) {
    for (const [name, { node, out }] of this.fields) {
      const v = values[name];
      if (node.type === "checkbox") node.checked = Boolean(v);
      else node.value = v ?? "";
      if (out) out.value = node.value;
    }
    for (const [field, selects] of this.tierSelects) {
      const list = values[field] || [];
      selects.forEach((select, i) => {
        const name = list[i] || "";
        if (name && ![...select.options].some((o) => o.value === name)) select.append(el("option", { value: name, text: name }));
        select.value = name;
      });
    }
  }

  values() {
    const out = {};
    for (const [name, { schema, node, out: output }] of this.fields) {
      const s = base(schema);
      if (output) output.value = node.value;
      if (node.type === "checkbox") out[name] = node.checked;
      else if (s.type === "number" || s.type === "integer") out[name] = Number(node.value);
      else if (schema.anyOf && node.value.trim() === "") out[name] = null;
      else out[name] = node.value;
    }
    for (const [field, selects] of this.tierSelects) {
      const list = selects.map((s) => s.value);
      while (list.length && !list[list.length - 1]) list.pop(); // "the default" at the end says nothing
      out[field] = list;
    }
    return out;
  }
}
