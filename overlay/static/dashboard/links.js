// Browser-source URLs for OBS, with copy buttons, and a live preview loaded only on demand
// (a preview plays alerts and sounds; it should not run unless the moderator asks for it).
import { el, byId, notify } from "./dom.js";
import { t } from "./i18n.js";
import { act, call } from "./api.js";

export async function copy(input, name) {
  try {
    await navigator.clipboard.writeText(input.value);
    notify(t("copied", { name }));
  } catch {
    // No clipboard API outside a secure context (a LAN address over http): select for Ctrl+C.
    input.focus();
    input.select();
    notify(t("copy_failed"), "error");
  }
}

function preview(url) {
  const details = byId("preview");
  byId("preview-frame").src = url;
  details.open = true;
  details.scrollIntoView({ block: "nearest" });
}

// Every open page of the channel (or of one widget) loads itself again: the cure for a browser
// source that froze, without touching OBS.
function reload(button, name) {
  const message = name ? t("reloading_widget", { name }) : t("reloading");
  return act(button, () => call("POST", "/overlays/reload", name ? { widget: name } : {}), message);
}

export function setupLinks(widgets, galleryUrl) {
  const rows = widgets.map((w) => {
    const input = el("input", { type: "text", readonly: true, value: w.url, "aria-label": `${w.name} URL`, spellcheck: "false" });
    return el("li", {},
      el("code", { className: "widget-name", text: w.name }),
      el("button", { type: "button", className: "small", text: t("copy"), "aria-label": t("copy_label", { name: w.name }),
        onclick: () => copy(input, w.name) }),
      el("button", { type: "button", className: "small", text: t("preview_widget"),
        "aria-label": t("preview_label", { name: w.name }), onclick: () => preview(w.preview) }),
      el("a", { href: w.url, target: "_blank", rel: "noopener", className: "small", text: t("open"),
        "aria-label": `${t("open")} ${w.name}` }),
      el("button", { type: "button", className: "small", text: t("reload_widget"),
        "aria-label": t("reload_label", { name: w.name }), onclick: (ev) => reload(ev.currentTarget, w.name) }),
      input);
  });
  byId("link-list").replaceChildren(...rows);
  const all = byId("reload-overlays");
  all.addEventListener("click", () => reload(all, null));
  byId("gallery-link").href = galleryUrl;
  const details = byId("preview");
  details.addEventListener("toggle", () => {
    const frame = byId("preview-frame");
    if (details.open && !frame.getAttribute("src")) frame.src = galleryUrl;
  });
}
