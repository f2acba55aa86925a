// Keyboard shortcuts (listed in the page's "Keyboard shortcuts" dialog). Single keys only
// act when no text field has focus, so typing a message never skips an alert.
import { byId } from "./dom.js";

function typing(target) {
  return target instanceof HTMLElement
    && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
}

function toggleHelp() {
  const dialog = byId("shortcuts-dialog");
  if (dialog.open) dialog.close();
  else dialog.showModal();
}

const KEYS = {
  s: () => byId("skip").click(),
  p: () => byId("pause").click(),
  t: () => byId("test-amount").focus(),
  c: () => byId("timer-toggle").click(), // a button disabled until the timer is started does nothing
  r: () => byId("reload-overlays").click(),
  "/": () => byId("feed-search").focus(),
  "?": toggleHelp,
};

export function setupShortcuts() {
  byId("shortcuts-button").addEventListener("click", toggleHelp);
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || event.repeat || typing(event.target)) return;
    const run = KEYS[event.key.length === 1 ? event.key.toLowerCase() : ""];
    if (!run || (byId("shortcuts-dialog").open && event.key !== "?")) return;
    event.preventDefault();
    run();
  });
}
