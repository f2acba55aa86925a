// The admin page: renders what the admin API answers; donor text never appears here, and
// every value is set with textContent.
const byId = (id) => document.getElementById(id);
const data = JSON.parse(byId("admin-data").textContent);
const t = data.strings;
const csrf = document.querySelector('meta[name="csrf-token"]').content;
const API = "/api/v1/admin/channels";
let cursor = null;

async function call(method, path, body) {
  const headers = {"X-CSRF-Token": csrf};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const r = await fetch(path, {method, headers, credentials: "same-origin",
                               body: body === undefined ? undefined : JSON.stringify(body)});
  const answer = await r.json();
  if (!r.ok) throw new Error(answer.error ? answer.error.message : String(r.status));
  return answer;
}

function el(tag, text, attrs = {}) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

function urls(channel, key) {
  const list = data.widgets.map((w) => [w, `${data.base}/overlay/${channel.id}/${w}?key=${key}`]);
  list.push([t.dashboard, `${data.base}/dashboard/${channel.id}`]);
  return list;
}

function urlList(channel, key) {
  const ul = el("ul", undefined, {class: "urls"});
  for (const [label, url] of urls(channel, key)) {
    const li = el("li", `${label}: `);
    li.append(el("code", url));
    ul.append(li);
  }
  return ul;
}

function showError(id, err) {
  const p = byId(id);
  p.textContent = t.failed.replace("{message}", err.message);
  p.hidden = false;
}

function actions(channel) {
  const cell = el("td");
  if (channel.source !== "api") return cell;
  const act = (label, path, body) => {
    const b = el("button", label, {type: "button", "data-action": path});
    b.addEventListener("click", async () => {
      try {
        const answer = await call("POST", `${API}/${channel.id}/${path}`, body);
        if (answer.channel) showSecrets(answer);  // rotate: the new secrets, once
        await reload();
      } catch (err) { showError("list-error", err); }
    });
    cell.append(b);
  };
  act(channel.disabled ? t.enable : t.disable, channel.disabled ? "enable" : "disable");
  act(t.rotate_key, "rotate", {overlay_key: true});
  act(t.rotate_token, "rotate", {moderator_token: true});
  return cell;
}

function row(channel) {
  const tr = el("tr", undefined, {"data-id": channel.id});
  tr.append(el("td", channel.id), el("td", channel.name),
            el("td", channel.source === "api" ? t.source_api : t.source_config),
            el("td", channel.disabled ? t.disabled : t.enabled, {class: "status"}), actions(channel));
  const details = el("details");
  details.append(el("summary", t.urls), urlList(channel, channel.overlay_key));
  tr.lastChild.append(details);
  return tr;
}

function showSecrets(answer) {
  const key = answer.overlay_key || answer.channel.overlay_key;
  byId("secret-token").textContent = answer.moderator_token || "";
  byId("secret-key").textContent = key;
  byId("secret-urls").replaceChildren(...urlList(answer.channel, key).children);
  byId("secrets").hidden = false;
}

async function load(more) {
  const q = byId("q").value.trim();
  const params = new URLSearchParams({q, limit: "50"});
  if (more && cursor) params.set("cursor", cursor);
  try {
    const answer = await call("GET", `${API}?${params}`);
    const body = document.querySelector("#channels tbody");
    if (!more) body.replaceChildren();
    body.append(...answer.channels.map(row));
    cursor = answer.next_cursor;
    byId("more").hidden = cursor === null;
    byId("list-error").hidden = true;
  } catch (err) { showError("list-error", err); }
}

const reload = () => load(false);

byId("search").addEventListener("submit", (e) => { e.preventDefault(); reload(); });
byId("more").addEventListener("click", () => load(true));
byId("new-name").addEventListener("input", (e) => {
  const id = byId("new-id");
  if (!id.dataset.touched) {
    id.value = e.target.value.toLowerCase().normalize("NFKD").replace(/[^a-z0-9]+/g, "-")
      .replace(/^-+|-+$/g, "").slice(0, 32);
  }
});
byId("new-id").addEventListener("input", (e) => { e.target.dataset.touched = "1"; });
byId("create").addEventListener("submit", async (e) => {
  e.preventDefault();
  const f = new FormData(e.target);
  const body = {id: f.get("id"), name: f.get("name"), currency: f.get("currency").toUpperCase(),
                locale: f.get("locale"), campaign: {goal: f.get("goal")}};
  try {
    showSecrets(await call("POST", API, body));
    byId("create-error").hidden = true;
    e.target.reset();
    delete byId("new-id").dataset.touched;
    await reload();
  } catch (err) { showError("create-error", err); }
});
reload();
