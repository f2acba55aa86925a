// match: the sponsor's banner. Shown only while the match is active: inside its window,
// cap not used up. Time moves without events, so it checks itself every second. On a team
// member without a match of its own, the banner is the team's (docs/teams.md "Team match").

export function mount(root, { client, ui, t, config, settings }) {
  const banner = ui.role(root, "banner");
  const badge = ui.role(root, "badge");
  const headline = ui.role(root, "headline");
  const remaining = ui.role(root, "remaining");
  const countdown = ui.role(root, "countdown");
  let match = null;
  let visible = false;

  function setVisible(on) {
    if (on === visible) return;
    visible = on;
    if (on) {
      banner.hidden = false;
      root.classList.remove("is-out");
      ui.restartAnimation(root, "is-in");
    } else {
      root.classList.remove("is-in");
      root.classList.add("is-out");
      setTimeout(() => { if (!visible) banner.hidden = true; }, 500);
    }
  }

  function render() {
    const now = client.serverNow();
    match = team.refresh(match, now);  // the channel's own, once it starts
    const active = ui.matchActive(match, now);
    setVisible(active);
    if (!active) return;
    const verb = ui.matchVerb(config.strings, match.multiplier);
    badge.textContent = ui.formatMultiplier(config.locale, match.multiplier);
    headline.textContent = verb
      ? t("match_headline", { verb: verb.verb, sponsor: match.sponsor })
      : t("match_headline_other", { multiplier: ui.formatMultiplier(config.locale, match.multiplier).slice(1),
                                    sponsor: match.sponsor });
    if (remaining) {
      remaining.textContent = t("match_remaining", { amount: match.display.remaining,
                                                     verb_infinitive: verb ? verb.infinitive : t("infinitive_other") });
    }
    if (countdown) {
      countdown.hidden = !match.ends_at;
      if (match.ends_at) countdown.textContent = t("ends_in", { time: ui.formatCountdown(Date.parse(match.ends_at) - now) });
    }
  }

  function update(next) {
    const before = match && match.remaining;
    match = next;
    render();
    if (visible && before !== null && before !== match.remaining) ui.restartAnimation(banner, "is-bumped");
  }

  const team = ui.teamMatchKeeper(config.locale);
  client.onState((state) => { match = state.match; team.seen(match); render(); });
  client.on("match", (ev) => { team.seen(ev.match); update(team.shown(ev.match, client.serverNow())); });
  // A member of a team with a match shows the team's while its channel's own is not active:
  // the team's remainder moves with every member's gifts (the coalesced ``team`` event).
  client.on("team", (ev) => {
    const next = team.team(ev.team, match, client.serverNow());
    if (next) update(next);
  });
  setInterval(render, 1000);
}
