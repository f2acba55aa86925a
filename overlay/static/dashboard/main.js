// The moderator dashboard: one live connection to /dashboard, views that only render,
// and actions that go through the REST API (so bots and stream decks do exactly the same).
//
// Modules import each other relatively: they resolve under this file's content-hashed
// folder, which the server serves with revalidation when the hash is not the file's own.
import { io } from "../vendor/socket.io-client/socket.io.esm.min.js";
import { byId } from "./dom.js";
import { setStrings, t } from "./i18n.js";
import { setChannel, sessionExpired } from "./api.js";
import { Feed } from "./feed.js";
import { Screening } from "./screening.js";
import { AlertQueue } from "./queue.js";
import { CampaignPanel, MatchPanel } from "./panels.js";
import { LivePanel } from "./live.js";
import { TeamsPanel } from "./teams.js";
import { TestForm } from "./testform.js";
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
const match = new MatchPanel(data.lang);
const live = new LivePanel(data.live, data.lang, data.channel);
const teams = new TeamsPanel(data.locale, data.channel);
new TestForm(data.presets, data.lang);
setupLinks(data.widgets, data.gallery);
setupShortcuts();

let lastSeq = -1;
let connectedBefore = false;

// Public donation events (an approval) lack the private fields: keep the ones we had.
function upsertDonation(d) {
  const merged = { ...(donations.get(d.id) || {}), ...d };
  donations.set(d.id, merged);
  feed.upsert(merged);
  screening.upsert(merged);
}

function onState(snap) {
  lastSeq = snap.seq;
  queue.setServerTime(snap.server_time);
  donations.clear();
  feed.reset();
  screening.reset();
  for (const d of [...(snap.donations || [])].reverse()) upsertDonation(d);
  campaign.render(snap.campaign);
  match.render(snap.match);
  queue.render(snap.alerts);
  teams.reset(snap.teams);
}

const handlers = {
  donation: (ev) => { upsertDonation(ev.donation); campaign.render(ev.campaign); },
  progress: (ev) => campaign.render(ev.campaign),
  match: (ev) => match.render(ev.match),
  queue: (ev) => queue.render(ev.alerts),
  team: (ev) => teams.update(ev.team),
};

function setConnection(state, text) {
  const conn = byId("conn");
  conn.dataset.state = state;
  conn.textContent = text;
}

function connect() {
  const socket = io("/dashboard", {
    path: "/socket.io",
    // Websocket first: with --workers, long-polling requests could land on another process.
    transports: ["websocket", "polling"],
    // On reconnect, ask for what we missed instead of a fresh snapshot.
    auth: (cb) => cb(lastSeq >= 0 ? { channel: data.channel, last_seq: lastSeq } : { channel: data.channel }),
  });
  socket.on("connect", () => {
    setConnection("live", t("conn_live"));
    if (connectedBefore) live.refresh();
    connectedBefore = true;
  });
  socket.on("disconnect", () => setConnection("lost", t("conn_lost")));
  socket.on("connect_error", () => {
    // Refused by the server (session over): it will not retry by itself. A network error retries.
    if (!socket.active) sessionExpired();
    else setConnection("lost", t("conn_lost"));
  });
  socket.on("state", onState);
  socket.on("live", (ev) => live.render(ev));
  for (const [name, handle] of Object.entries(handlers)) {
    socket.on(name, (ev) => {
      if (typeof ev.seq !== "number" || ev.seq <= lastSeq) return; // already in the snapshot or seen
      lastSeq = ev.seq;
      handle(ev);
    });
  }
  return socket;
}

connect();
