// The moderator dashboard: one live connection to /dashboard, views that only render,
// and actions that go through the REST API (so bots and stream decks do exactly the same).
//
// Modules import each other relatively: they resolve under this file's content-hashed
// folder, which the server serves with revalidation when the hash is not the file's own.
import { io } from "../vendor/socket.io-client/socket.io.esm.min.js";
import { READINGS, connectFeed } from "../overlay-client.js";
import { byId } from "./dom.js";
import { setStrings, t } from "./i18n.js";
import { setChannel, sessionExpired } from "./api.js";
import { Feed } from "./feed.js";
import { Screening } from "./screening.js";
import { AlertQueue } from "./queue.js";
import { CampaignPanel, MatchPanel } from "./panels.js";
import { LivePanel } from "./live.js";
import { TeamsPanel } from "./teams.js";
import { TimerPanel } from "./timer.js";
import { TestForm } from "./testform.js";
import { IncentivesPanel } from "./incentives.js";
import { IntegrationsPanel } from "./integrations.js";
import { OverlayPagesList } from "./overlay-pages.js";
import { RewardsList } from "./rewards.js";
import { setupLinks } from "./links.js";
import { setupShortcuts } from "./shortcuts.js";

const data = JSON.parse(byId("dashboard-data").textContent);
setStrings(data.strings, data.lang);
setChannel(data.channel);

const donations = new Map();
const feed = new Feed(data.lang);
const screening = new Screening(data.banned_words, data.lang);
const queue = new AlertQueue();
const campaign = new CampaignPanel(data.locale, data.currency);
const teams = new TeamsPanel(data.locale, data.channel);
const match = new MatchPanel(data.lang, data.locale, (id) => teams.name(id));
const live = new LivePanel(data.live, data.lang, data.channel);
const incentives = new IncentivesPanel(donations, data.widgets);
const rewards = new RewardsList();
const timer = new TimerPanel();
new TestForm(data.presets, data.lang);
new IntegrationsPanel();
new OverlayPagesList();
setupLinks(data.widgets, data.gallery);
setupShortcuts();

let connectedBefore = false;

// Public donation events (an approval) lack the private fields: keep the ones we had.
function upsertDonation(d) {
  const merged = { ...(donations.get(d.id) || {}), ...d };
  donations.set(d.id, merged);
  feed.upsert(merged);
  screening.upsert(merged);
  if (merged.incentive && merged.incentive.kind === "reward") rewards.refresh();
}

function onState(snap) {
  queue.setServerTime(snap.server_time);
  donations.clear();
  feed.reset();
  screening.reset();
  for (const d of [...(snap.donations || [])].reverse()) upsertDonation(d);
  campaign.render(snap.campaign);
  teams.reset(snap.teams);
  match.reset(snap.match, snap.team_match);
  queue.render(snap.alerts);
  queue.renderTiming(snap.alert_timing);
  incentives.reset(snap.incentives);
  incentives.fillMoveDonations();
  rewards.refresh();
  timer.setServerTime(snap.server_time);
  timer.reset(snap.timer, snap.seq);
}

const handlers = {
  donation: (ev) => { upsertDonation(ev.donation); campaign.render(ev.campaign); incentives.fillMoveDonations(); },
  incentive: (ev) => {
    incentives.update(ev.incentive);
    if (ev.incentive.kind === "reward") rewards.refresh();
  },
  progress: (ev) => campaign.render(ev.campaign),
  match: (ev) => match.render(ev.match),
  queue: (ev) => queue.render(ev.alerts),
  alert_timing: (ev) => queue.renderTiming(ev.alert_timing),
  team: (ev) => { teams.update(ev.team); match.fromTeam(ev.team); },
  timer: (ev) => timer.render(ev.timer, ev.seq),
};

function setConnection(state, text) {
  const conn = byId("conn");
  conn.dataset.state = state;
  conn.textContent = text;
}

// The overlays' connection module, on /dashboard: the session cookie authenticates, so a
// refusal means the session is over (no retry); a network error retries.
function connect() {
  const conn = connectFeed({
    io, namespace: "/dashboard", auth: { channel: data.channel },
    events: Object.keys(handlers).filter((name) => !READINGS.includes(name)), unsequenced: ["live", ...READINGS],
    capMs: 5000,
    onConnectError: (err, refused) => {
      if (refused) sessionExpired();
      else setConnection("lost", t("conn_lost"));
      return refused;
    },
  });
  conn.onStatus(({ connected }) => {
    if (!connected) {
      setConnection("lost", t("conn_lost"));
      return;
    }
    setConnection("live", t("conn_live"));
    if (connectedBefore) live.refresh();
    connectedBefore = true;
  });
  conn.onState(onState);
  conn.on("live", (ev) => live.render(ev));
  for (const [name, handle] of Object.entries(handlers)) conn.on(name, handle);
  conn.start();
  return conn;
}

connect();
