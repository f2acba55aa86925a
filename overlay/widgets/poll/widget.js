// poll: one poll's options as bars scaled to the leader, in the order they were listed (so a
// bar never jumps), the leader marked; closed, the winner stands out and the others fade.

export function mount(root, { client, ui, t, settings }) {
  const title = ui.role(root, "title");
  const status = ui.role(root, "status");
  const options = ui.role(root, "options");
  const foot = ui.role(root, "foot");
  let polls = new Map();

  // Without a poll id: the newest open poll, else the newest one; incentives arrive in the
  // order they were made, so one created on the dashboard takes over at once.
  function chosen() {
    if (settings.poll) return polls.get(settings.poll) || null;
    const newest = [...polls.values()].filter((i) => i.kind === "poll").reverse();
    return newest.find((i) => i.open) || newest[0] || null;
  }

  function row(p, o, top) {
    const li = ui.el("li", "poll__option");
    const marked = p.open ? p.leader : p.winner;
    li.classList.toggle("is-leader", o.id === marked);
    const head = ui.el("div", "poll__line");
    head.append(ui.el("span", "poll__label", o.label));
    if (o.id === marked) head.append(ui.el("span", "poll__badge", p.open ? t("leading") : t("winner")));
    if (settings.show_amounts) head.append(ui.el("span", "poll__amount", o.display));
    const bar = ui.el("div", "poll__bar");
    const fill = ui.el("div", "poll__fill");
    fill.style.width = `${top > 0 ? (Number(o.total) / top) * 100 : 0}%`;
    bar.append(fill);
    li.append(head, bar);
    return li;
  }

  function render() {
    const p = chosen();
    root.hidden = p === null;
    if (p === null) return;
    root.classList.toggle("is-closed", !p.open);
    title.textContent = p.title;
    status.textContent = p.open ? "" : t("poll_closed");
    const top = Math.max(...p.options.map((o) => Number(o.total)), 0);
    options.replaceChildren(...p.options.map((o) => row(p, o, top)));
    foot.textContent = p.open && p.leader && Number(p.margin) > 0 && settings.show_amounts
      ? t("ahead_by", { amount: p.display_margin }) : (p.open ? t("poll_open") : "");
  }

  client.onState((state) => {
    polls = new Map((state.incentives || []).map((i) => [i.id, i]));
    render();
  });
  client.on("incentive", (ev) => {
    if (ev.incentive.removed) polls.delete(ev.incentive.id);
    else polls.set(ev.incentive.id, ev.incentive);
    render();
  });
}
