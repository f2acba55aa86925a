// Campaign (title, goal, milestones) and match (sponsor, multiplier, cap, end) panels and their forms.
import { el, byId, setText, decimalInput } from "./dom.js";
import { t, tn } from "./i18n.js";
import { act, call } from "./api.js";
import { formatPercent, matchActive, teamMatchFor } from "../overlay-ui.js";

// A form the moderator is typing in is not overwritten by live updates.
function trackDirty(form) {
  form.addEventListener("input", () => { form.dataset.dirty = "1"; });
}

function localInputValue(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export class CampaignPanel {
  constructor(locale, currency) {
    this.locale = locale;
    this.money = new Intl.NumberFormat(locale, { style: "currency", currency });
    this.form = byId("campaign-form");
    this.campaign = null;
    trackDirty(this.form);
    this.form.addEventListener("submit", (e) => this.save(e));
  }

  render(c) {
    this.campaign = c;
    setText("campaign-title", c.title);
    setText("campaign-total", c.display.total);
    setText("campaign-goal", c.display.goal);
    setText("campaign-percent", formatPercent(this.locale, c.percent)); // as every other page writes it
    byId("campaign-progress").value = Math.min(100, c.percent);
    setText("campaign-raised", c.display.raised);
    setText("campaign-matched", c.display.matched);
    setText("campaign-count", tn("count", c.count));
    const items = (c.milestones || []).map((m, i) => {
      const reached = Number(c.total) >= Number(m);
      return el("li", { className: reached ? "reached" : "" }, c.display.milestones ? c.display.milestones[i] : this.money.format(Number(m)),
        reached ? el("span", { className: "badge ok", text: t("milestone_reached") }) : null);
    });
    byId("milestones").replaceChildren(...items);
    if (!items.length) byId("milestones").append(el("li", { className: "muted", text: t("no_milestones") }));
    if (!this.form.dataset.dirty) {
      byId("campaign-title-input").value = c.title;
      byId("campaign-goal-input").value = c.goal;
      byId("campaign-milestones-input").value = (c.milestones || []).join(" ; ");
    }
  }

  async save(event) {
    event.preventDefault();
    const milestones = byId("campaign-milestones-input").value.split(";").map(decimalInput).filter(Boolean);
    const body = { title: byId("campaign-title-input").value.trim(), goal: decimalInput(byId("campaign-goal-input").value),
      milestones };
    const done = await act(event.submitter, () => call("PATCH", "/campaign", body), t("campaign_saved"));
    if (done) {
      // Refill from the live state: the socket event, not this reply, orders concurrent edits.
      delete this.form.dataset.dirty;
      if (this.campaign) this.render(this.campaign);
    }
  }
}

export class MatchPanel {
  // The channel's own match and its team's (docs/teams.md "Team match"). The panel shows the one
  // overlays show (the own while active, else the team's, read-only); the form always edits the
  // channel's own, even scheduled or used up while the team's shows.
  // teamName(id): a team's name, from the teams panel.
  constructor(lang, locale, teamName) {
    this.when = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" });
    this.locale = locale;
    this.teamName = teamName;
    this.form = byId("match-form");
    this.own = null;
    this.team = null;
    trackDirty(this.form);
    this.form.addEventListener("submit", (e) => this.save(e));
    byId("match-end").addEventListener("click", (e) => this.end(e.currentTarget));
  }

  // The moderators' snapshot: `match` is the channel's own, `team_match` its team's (or null).
  reset(own, team) {
    this.own = own;
    this.team = team || null;
    this.draw();
  }

  // A `match` event: the team's (it names the team) or the channel's own.
  render(m) {
    if (m && m.team) this.team = m;
    else this.own = m;
    this.draw();
  }

  // The coalesced `team` event moves the team's match when other members' gifts use its cap.
  fromTeam(team) {
    const next = teamMatchFor(this.team, team, this.locale, Date.now());
    if (next) this.render(next);
  }

  shown() {
    const team = this.team && this.team.sponsor ? this.team : null;
    return team && !matchActive(this.own, Date.now()) ? team : this.own;
  }

  draw() {
    const m = this.shown();
    const exists = Boolean(m && m.sponsor);
    const team = exists && m.team ? m.team : null;
    const badge = byId("match-badge");
    badge.textContent = exists ? t(m.active ? "match_active" : "match_inactive") : t("match_none");
    badge.className = `badge ${m && m.active ? "ok" : ""}`;
    setText("match-summary", !exists ? t("match_none") : team
      ? t("team_match_summary", { team: this.teamName(team), sponsor: m.sponsor, multiplier: m.multiplier,
                                  remaining: m.display.remaining })
      : `${m.sponsor} ×${m.multiplier}`);
    byId("match-team-note").hidden = !team;
    byId("match-progress").value = exists && Number(m.cap) > 0 ? Number(m.used) / Number(m.cap) : 0;
    setText("match-used", exists ? `${m.display.used} / ${m.display.cap}` : "—");
    setText("match-remaining", exists ? m.display.remaining : "—");
    setText("match-ends", exists && m.ends_at ? t("ends", { t: this.when.format(new Date(m.ends_at)) }) : "");
    const own = this.own && this.own.sponsor ? this.own : null;
    byId("match-own").hidden = !(team && own);
    if (team && own) setText("match-own", this.ownLine(own));
    byId("match-submit").textContent = t(own ? "update_match" : "start_match");
    byId("match-end").hidden = !own;
    if (own && !this.form.dataset.dirty) {
      byId("match-sponsor").value = own.sponsor;
      byId("match-multiplier").value = own.multiplier;
      byId("match-cap").value = own.cap;
      byId("match-ends-at").value = localInputValue(own.ends_at);
    }
  }

  // The channel's own match while the team's shows: scheduled, or not active (used up, ended).
  ownLine(own) {
    const words = { sponsor: own.sponsor, multiplier: own.multiplier, remaining: own.display.remaining };
    return own.starts_at && Date.now() < Date.parse(own.starts_at)
      ? t("own_match_scheduled", { ...words, t: this.when.format(new Date(own.starts_at)) })
      : t("own_match_inactive", words);
  }

  async save(event) {
    event.preventDefault();
    const endsAt = byId("match-ends-at").value;
    const body = {
      sponsor: byId("match-sponsor").value.trim(),
      multiplier: decimalInput(byId("match-multiplier").value),
      cap: decimalInput(byId("match-cap").value),
      // A change keeps a scheduled start; the form only sets the end.
      starts_at: this.own && this.own.sponsor ? this.own.starts_at : null,
      ends_at: endsAt ? new Date(endsAt).toISOString() : null,
    };
    const done = await act(event.submitter, () => call("PUT", "/match", body), t("match_saved"));
    if (done) {
      delete this.form.dataset.dirty;
      this.draw();
    }
  }

  async end(button) {
    const done = await act(button, () => call("DELETE", "/match"), t("match_ended"));
    if (done) {
      delete this.form.dataset.dirty;
      this.draw();
    }
  }
}
