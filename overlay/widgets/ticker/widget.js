// ticker: the latest donations, newest first, crawling right to left when they do not fit.
// Test donations never enter it. A new donation restarts the crawl with itself in front,
// held still for a moment so that it can be read.

const HOLD_MS = 3000;

export function mount(root, { client, ui, t, settings }) {
  const viewport = ui.role(root, "viewport");
  const track = ui.role(root, "track");
  let items = [];
  let x = 0;
  let loopWidth = 0;
  let last = null;
  let holdUntil = 0;

  function item(d, fresh) {
    const node = ui.el("span", fresh ? "ticker__item is-new" : "ticker__item");
    node.append(ui.el("span", "ticker__name", ui.donorName(t, d)));
    if (d.display.amount !== null) node.append(ui.el("span", "ticker__amount", d.display.amount));
    if (settings.show_messages && d.message) node.append(ui.el("span", "ticker__message", d.message));
    return node;
  }

  function render(freshId = null) {
    track.replaceChildren(...items.map((d) => item(d, d.id === freshId)));
    x = 0;
    loopWidth = 0;
    track.style.transform = "translateX(0)";
    holdUntil = performance.now() + HOLD_MS;
    // Only a list wider than the bar crawls; it is drawn twice so the loop has no seam.
    if (settings.speed > 0 && track.scrollWidth > viewport.clientWidth) {
      track.append(...items.map((d) => item(d, false)));
      loopWidth = track.children[items.length].offsetLeft - track.children[0].offsetLeft;
    }
    root.classList.toggle("is-empty", items.length === 0);
  }

  function frame(now) {
    if (last !== null && loopWidth > 0 && now > holdUntil) {
      x -= (settings.speed * Math.min(now - last, 100)) / 1000;
      if (-x >= loopWidth) x += loopWidth;
      track.style.transform = `translate3d(${x.toFixed(1)}px, 0, 0)`;
    }
    last = now;
    requestAnimationFrame(frame);
  }

  client.onState((state) => {
    items = state.recent.slice(0, settings.count);
    render();
  });
  client.on("donation", (ev) => {
    const d = ev.donation;
    if (d.test || d.status !== "approved") return;
    items = [d, ...items.filter((i) => i.id !== d.id)].slice(0, settings.count);
    render(d.id);
  });
  if (!matchMedia("(prefers-reduced-motion: reduce)").matches) requestAnimationFrame(frame);
}
