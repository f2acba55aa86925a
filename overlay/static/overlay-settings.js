// Applying new settings to an open page (API.md §7 `settings` event): a page that shows a
// preset asks the server how its own address resolves now (preset first, then the URL's
// settings on top, exactly as at load) and applies the answer in place, without a reload.

// Every widget root's data-* attribute that mirrors a setting (theme, position, animation…).
function applyAttributes(root, settings) {
  for (const [key, value] of Object.entries(settings)) {
    const attr = key.replace(/_(\w)/g, (_, c) => c.toUpperCase());
    if (attr in root.dataset) root.dataset[attr] = String(value);
  }
  // Parts a setting shows or hides: data-show="show_percent".
  for (const node of root.querySelectorAll("[data-show]")) node.hidden = !settings[node.dataset.show];
  // Words a setting replaces, the built-in ones when it is empty: data-text="title".
  for (const node of root.querySelectorAll("[data-text]")) {
    node.textContent = settings[node.dataset.text] || node.dataset.fallback || "";
  }
}

function applyCss(roots, cssVars, customCss) {
  for (const root of roots) {
    // CSSOM, not a style attribute: the page's CSP allows it without 'unsafe-inline'.
    for (const [name, value] of Object.entries(cssVars[root.dataset.widget] || {})) root.style.setProperty(`--${name}`, value);
  }
  const custom = document.getElementById("overlay-custom-css");
  if (custom) custom.textContent = customCss;
}

export function followSettings({ client, config, roots, handles }) {
  if (!config.preset) return;
  let pending = null;

  async function refresh() {
    const url = `${location.pathname.replace(/\/$/, "")}/settings${location.search}`;
    const res = await fetch(url, { cache: "no-store", credentials: "omit" });
    if (!res.ok) throw new Error(`settings: HTTP ${res.status}`);
    const next = await res.json();
    // The scene showing other widgets than before: those are built with the page, so only
    // here does a saved preset reload the page (the clock and the alert catch up at once).
    if (Object.keys(next.widgets).sort().join() !== Object.keys(config.widgets).sort().join()) {
      location.reload();
      return;
    }
    for (const [name, settings] of Object.entries(next.widgets)) {
      if (!config.widgets[name]) continue;
      Object.assign(config.widgets[name], settings); // widgets read this object when they draw
    }
    for (const root of roots) {
      const settings = config.widgets[root.dataset.widget];
      if (settings) applyAttributes(root, settings);
    }
    applyCss(roots, next.css_vars, next.custom_css);
    for (const handle of handles) handle?.applySettings?.();
    document.documentElement.dataset.settingsSeq = String(client.lastSeq);
  }

  client.on("settings", (ev) => {
    if (ev.widget !== config.widget || ev.preset !== config.preset) return;
    // Saves in a row: one fetch at a time, the last one wins.
    pending = (pending || Promise.resolve()).then(refresh).catch((err) => console.warn(`overlay: ${err.message}`));
  });
}
