// goal: total toward the goal, the donors' part and the sponsor's part side by side,
// milestone markers, a short celebration when a milestone (or the goal) is crossed, and
// the running match's line (docs/widgets.md).

const CELEBRATE_MS = 4500;

export function mount(root, { client, ui, t, config, settings }) {
  const panel = ui.role(root, "panel");
  const title = ui.role(root, "title");
  const percent = ui.role(root, "percent");
  const raisedFill = ui.role(root, "raised");
  const matchedFill = ui.role(root, "matched");
  const markers = ui.role(root, "markers");
  const celebrate = ui.role(root, "celebrate");
  const text = (roleName, value) => {
    const node = ui.role(root, roleName);
    if (node) node.textContent = value;
  };
  let campaign = null;
  let sponsor = null;
  let celebrateTimer = null;
  let milestones = config.milestones;

  function drawMarkers(goal, total) {
    if (!markers) return;
    markers.replaceChildren();
    for (const m of milestones) {
      const at = Number(m.amount) / goal;
      if (!(at > 0 && at < 1)) continue;
      const marker = ui.el("div", "goal__marker");
      marker.style.left = `${at * 100}%`;
      marker.classList.toggle("is-passed", total >= Number(m.amount));
      marker.append(ui.el("span", "goal__marker-label", m.display));
      markers.append(marker);
    }
  }

  function celebrateCrossing(before, after, goal) {
    const crossed = milestones.filter((m) => before < Number(m.amount) && Number(m.amount) <= after);
    let words = null;
    if (before < goal && after >= goal) words = t("goal_reached");
    else if (crossed.length) words = t("milestone", { amount: crossed[crossed.length - 1].display });
    if (!words) return;
    celebrate.textContent = words;
    celebrate.hidden = false;
    ui.restartAnimation(panel, "is-celebrating");
    clearTimeout(celebrateTimer);
    celebrateTimer = setTimeout(() => {
      celebrate.hidden = true;
      panel.classList.remove("is-celebrating");
    }, CELEBRATE_MS);
  }

  function render(next, { animate }) {
    const goal = Number(next.goal) || 1;
    const raised = Number(next.raised);
    const matched = Number(next.matched);
    const total = Number(next.total);
    // Moderators edit milestones live: the campaign carries them (config's until then).
    if (next.milestones) milestones = next.milestones.map((amount, i) => ({ amount, display: next.display.milestones[i] }));
    if (animate && campaign) celebrateCrossing(Number(campaign.total), total, goal);
    campaign = next;
    title.textContent = settings.title || next.title || t("goal");
    if (percent) percent.textContent = ui.formatPercent(config.locale, next.percent);
    const raisedPart = Math.min(raised / goal, 1);
    raisedFill.style.width = `${raisedPart * 100}%`;
    matchedFill.style.left = `${raisedPart * 100}%`;
    matchedFill.style.width = `${Math.min(matched / goal, 1 - raisedPart) * 100}%`;
    drawMarkers(goal, total);
    text("total", next.display.total);
    text("goal", next.display.goal);
    text("raised-amount", next.display.raised);
    text("matched-amount", next.display.matched);
    const key = ui.role(root, "matched-key");
    if (key) key.hidden = !(matched > 0);
    if (sponsor) text("matched-label", sponsor);
    root.classList.toggle("is-complete", total >= goal);
  }

  // With show_team: the team's total beside the channel's (the team event brings it whole).
  const teamLine = ui.role(root, "team");
  let teamId = settings.team;
  function renderTeam(team) {
    if (!teamLine) return;
    teamLine.hidden = !team;
    if (!team) return;
    text("team-name", team.name);
    const money = ui.moneyFormatter(config.locale, team.currency);  // this channel's way of writing amounts
    text("team-total", money.format(ui.toMinor(team.total, money.digits)));
    text("team-goal", money.format(ui.toMinor(team.goal, money.digits)));
    ui.role(root, "team-fill").style.width = `${Math.min(Math.max(team.percent, 0), 100)}%`;
  }

  // While a match runs (the channel's own, or its team's): "TikTok ×2 · 3 200 € left".
  // Time moves without events, so the line checks itself every second.
  const matchLine = ui.role(root, "match-line");
  let match = null;
  function renderMatch() {
    match = teamMatch.refresh(match, client.serverNow());  // the channel's own, once it starts
    const active = ui.matchActive(match, client.serverNow());
    matchLine.hidden = !active;
    if (!active) return;
    const verb = ui.matchVerb(config.strings, match.multiplier);
    const words = { sponsor: match.sponsor, amount: match.display.remaining,
                    multiplier: ui.formatMultiplier(config.locale, match.multiplier).slice(1),
                    verb_present: verb ? verb.present : "" };
    matchLine.textContent = t(verb ? "goal_match" : "goal_match_other", words);
  }
  function setMatch(next) {
    match = next;
    if (next.sponsor) sponsor = next.sponsor;
    if (campaign) render(campaign, { animate: false });
    renderMatch();
  }

  const teamMatch = ui.teamMatchKeeper(config.locale);
  client.onState((state) => {
    sponsor = state.match.sponsor;
    match = state.match;
    teamMatch.seen(match);
    render(state.campaign, { animate: false });
    renderMatch();
    const team = (state.teams || []).find((x) => !settings.team || x.id === settings.team);
    teamId = team ? team.id : settings.team;
    renderTeam(team);
  });
  client.on("team", ({ team }) => {
    if (team.id === teamId) renderTeam(team);
    const next = teamMatch.team(team, match, client.serverNow());
    if (next) setMatch(next);
  });
  client.on("donation", (ev) => { if (!ev.donation.test) render(ev.campaign, { animate: true }); });
  client.on("progress", (ev) => render(ev.campaign, { animate: true }));
  client.on("match", (ev) => { teamMatch.seen(ev.match); setMatch(teamMatch.shown(ev.match, client.serverNow())); });
  setInterval(renderMatch, 1000);
  // New settings (a preset saved in the editor): the title may have changed.
  return { applySettings: () => { if (campaign) render(campaign, { animate: false }); } };
}
