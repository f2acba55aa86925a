// Entry point of every browser source. The page's JSON block names every module by its
// content-hashed URL; importing them from here (not by relative paths) keeps one copy
// of each module and lets each be cached for a year.

const config = JSON.parse(document.getElementById("overlay-config").textContent);
const roots = [...document.querySelectorAll("[data-widget]")];
const names = [...new Set(roots.map((root) => root.dataset.widget))];

const [{ io }, { createClient }, ui, ...widgets] = await Promise.all(
  [config.modules.io, config.modules.client, config.modules.ui, ...names.map((n) => config.modules[n])]
    .map((url) => import(url)),
);
const modules = Object.fromEntries(names.map((n, i) => [n, widgets[i]]));

const client = createClient({ io, channel: config.channel, key: config.key });
const t = ui.translator(config.strings);
for (const root of roots) {
  const name = root.dataset.widget;
  modules[name].mount(root, { client, ui, t, config, settings: config.widgets[name] });
}
client.onStatus(({ connected }) => document.documentElement.toggleAttribute("data-offline", !connected));
client.start();
// Tests and the widget gallery look at this; nothing else should need it.
window.overlay = { client };
