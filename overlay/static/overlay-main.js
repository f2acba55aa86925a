// Entry point of every browser source. The page's JSON block names every module by its
// content-hashed URL; importing them from here (not by relative paths) keeps one copy
// of each module and lets each be cached for a year.

const config = JSON.parse(document.getElementById("overlay-config").textContent);
const roots = [...document.querySelectorAll("[data-widget]")];
const names = [...new Set(roots.map((root) => root.dataset.widget))];

const [{ io }, { createClient }, ui, { followSettings }, watchdog, ...widgets] = await Promise.all(
  [config.modules.io, config.modules.client, config.modules.ui, config.modules.settings, config.modules.watchdog,
    ...names.map((n) => config.modules[n])]
    .map((url) => import(url)),
);
const modules = Object.fromEntries(names.map((n, i) => [n, widgets[i]]));

const client = createClient({ io, channel: config.channel, key: config.key });
const t = ui.translator(config.strings);
// mount() may return {applySettings()}: called after config.widgets[name] changed in place.
const handles = roots.map((root) => {
  const name = root.dataset.widget;
  return modules[name].mount(root, { client, ui, t, config, settings: config.widgets[name] });
});
followSettings({ client, config, roots, handles });
// A moderator's "Reload overlays" (every page, or one widget's): load this page again. The new
// page starts from the channel's snapshot, which holds the alert playing now, so no alert is
// replayed and none is missed. Viewers' live page is no browser source: its video plays on.
client.on("reload", (ev) => {
  if (config.widget === "live") return;
  if (!ev.widget || ev.widget === config.widget || names.includes(ev.widget)) location.reload();
});
client.onStatus(({ connected }) => document.documentElement.toggleAttribute("data-offline", !connected));
// Browser sources only: not the viewers' live page, nor previews framed by the gallery or the
// editor (an off-screen frame gets no animation frames, and is no source to list).
if (config.widget !== "live" && window.top === window) {
  watchdog.announce({ client, widget: config.widget, beatS: config.watchdog.beat_s });
  watchdog.watch({ client, afterS: config.watchdog.after_s });
}
client.start();
// Tests and the widget gallery look at this; nothing else should need it.
window.overlay = { client };
