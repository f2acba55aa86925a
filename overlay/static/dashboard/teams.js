// Team progress: each team this channel belongs to (teams: in config.yaml), its total toward
// the team goal and what each member channel raised. From the snapshot, then from `team`
// events, which carry the whole team: nothing is added up here.
import { el, byId } from "./dom.js";
import { t } from "./i18n.js";

export class TeamsPanel {
  constructor(locale, channel) {
    this.locale = locale;
    this.channel = channel;
    this.teams = new Map();
  }

  reset(teams) {
    this.teams = new Map((teams || []).map((team) => [team.id, team]));
    this.draw();
  }

  name(id) {
    const team = this.teams.get(id);
    return team ? team.name : id;
  }

  update(team) {
    this.teams.set(team.id, team);
    this.draw();
  }

  draw() {
    byId("teams").hidden = this.teams.size === 0;
    byId("teams-list").replaceChildren(...[...this.teams.values()].map((team) => this.card(team)));
  }

  card(team) {
    const money = new Intl.NumberFormat(this.locale, { style: "currency", currency: team.currency });
    const members = [...team.members].sort((a, b) => Number(b.total) - Number(a.total)).map((m) =>
      el("li", { className: m.channel === this.channel ? "self" : "" },
        el("span", { text: m.name }), el("strong", { text: money.format(Number(m.total)) })));
    return el("div", { className: "team", "data-team": team.id },
      el("p", { className: "big", text: team.name }),
      el("p", { className: "total" }, el("span", { className: "big team-total", text: money.format(Number(team.total)) }),
        ` / ${money.format(Number(team.goal))} `, el("span", { className: "muted", text: `${team.percent} %` })),
      el("progress", { max: "100", value: String(Math.min(100, team.percent)), "aria-label": team.name }),
      el("p", { className: "muted", text: t("team_members") }),
      el("ol", { className: "team-members" }, ...members));
  }
}
