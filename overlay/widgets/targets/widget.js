// targets: every target incentive as a row (title, bar, total / amount), newest first; a
// target that gets reached flashes and says so.

const FLASH_MS = 5000;

export function mount(root, { client, ui, t, settings }) {
  const list = ui.role(root, "list");
  const empty = ui.role(root, "empty");
  let targets = new Map();
  const flashing = new Set();

  // Newest first (incentives arrive in the order they were made), or the one `target` names.
  function shown() {
    return [...targets.values()].reverse()
      .filter((i) => i.kind === "target" && (!settings.target || i.id === settings.target))
      .filter((i) => settings.show_closed || settings.target || i.open || i.reached)
      .filter((i) => settings.show_reached || !i.reached || flashing.has(i.id))
      .slice(0, settings.count);
  }

  function row(i) {
    const li = ui.el("li", "targets__row");
    li.dataset.id = i.id;
    li.classList.toggle("is-reached", i.reached);
    li.classList.toggle("is-flashing", flashing.has(i.id));
    const head = ui.el("div", "targets__head");
    head.append(ui.el("span", "targets__name", i.title),
      ui.el("span", "targets__amounts", i.reached ? t("unlocked") : `${i.display.total} / ${i.display.amount}`));
    const bar = ui.el("div", "targets__bar");
    const fill = ui.el("div", "targets__fill");
    fill.style.width = `${Math.min(i.percent, 100)}%`;
    bar.append(fill);
    li.append(head, bar);
    return li;
  }

  function render() {
    const rows = shown();
    list.replaceChildren(...rows.map(row));
    empty.hidden = rows.length > 0;
  }

  client.onState((state) => {
    targets = new Map((state.incentives || []).map((i) => [i.id, i]));
    render();
  });
  client.on("incentive", (ev) => {
    const i = ev.incentive;
    if (i.removed) targets.delete(i.id);
    else targets.set(i.id, i);
    if (ev.reached) {
      flashing.add(i.id);
      setTimeout(() => { flashing.delete(i.id); render(); }, FLASH_MS);
    }
    render();
  });
}
