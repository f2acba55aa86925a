// team: the team's total toward its goal and each member channel's part. The snapshot brings
// the channel's teams; a `team` event brings the whole team again, so nothing is added up here.
// The channel showing the widget is highlighted among the members.

export function mount(root, { client, ui, config, settings }) {
  const fill = ui.role(root, "fill");
  const members = ui.role(root, "members");
  let shown = settings.team;  // the team id, once known
  const text = (name, value) => {
    const node = ui.role(root, name);
    if (node) node.textContent = value;
  };

  function render(team) {
    root.hidden = !team;
    if (!team) return;
    text("title", settings.title || team.name);
    text("percent", ui.formatPercent(config.locale, team.percent));
    // Written as this channel writes amounts (its locale), whichever member's page it is on.
    const money = ui.moneyFormatter(config.locale, team.currency);
    const amount = (value) => money.format(ui.toMinor(value, money.digits));
    text("total", amount(team.total));
    text("goal", amount(team.goal));
    fill.style.width = `${Math.min(Math.max(team.percent, 0), 100)}%`;
    if (!members) return;
    // A large team's events carry only its leaderboard (the top members by raised).
    const listed = team.members.length ? team.members : team.leaderboard || [];
    const rows = [...listed].sort((a, b) => Number(b.total) - Number(a.total)).slice(0, settings.members);
    members.replaceChildren(...rows.map((m) => {
      const li = ui.el("li", m.channel === config.channel ? "team__member is-self" : "team__member");
      li.append(ui.el("span", "team__name", m.name), ui.el("span", "team__amount", amount(m.total)));
      return li;
    }));
  }

  client.onState((state) => {
    const team = (state.teams || []).find((x) => !settings.team || x.id === settings.team);
    shown = team ? team.id : settings.team;
    render(team);
  });
  client.on("team", ({ team }) => {
    if (team.id === shown) render(team);
  });
}
