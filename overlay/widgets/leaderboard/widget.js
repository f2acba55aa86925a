// leaderboard: top donors by total. The snapshot brings the server's board; each donation
// then adds to it here (integer minor units), so ten thousand overlays ask the server nothing.
// Anonymous, test and hidden-amount donations are never listed (the server's board agrees).

export function mount(root, { client, ui, config, settings }) {
  const list = ui.role(root, "list");
  const empty = ui.role(root, "empty");
  const money = ui.moneyFormatter(config.locale, config.currency);
  let board = [];   // [{name, minor, display}]

  function render(changed = null) {
    list.replaceChildren(...board.slice(0, settings.count).map((row, i) => {
      const li = ui.el("li", row.name === changed ? "board__row is-new" : "board__row");
      li.append(ui.el("span", "board__rank", String(i + 1)), ui.el("span", "board__name", row.name),
                ui.el("span", "board__total", row.display));
      return li;
    }));
    empty.hidden = board.length > 0;
  }

  client.onState((state) => {
    board = state.leaderboard.map((r) => ({ name: r.donor_name, minor: ui.toMinor(r.total, money.digits),
                                            display: r.display }));
    render();
  });
  client.on("donation", ({ donation: d }) => {
    if (d.test || !d.donor_name || d.amount === null || d.status !== "approved") return;
    const row = board.find((r) => r.name === d.donor_name) || { name: d.donor_name, minor: 0 };
    if (!board.includes(row)) board.push(row);
    row.minor += ui.toMinor(d.amount, money.digits);
    row.display = money.format(row.minor);
    board.sort((a, b) => b.minor - a.minor || a.name.localeCompare(b.name));
    render(d.donor_name);
  });
}
