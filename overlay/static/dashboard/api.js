// Calls to the REST API of API.md §4 with the session cookie and the page's CSRF token.
import { notify, byId } from "./dom.js";
import { t } from "./i18n.js";

const csrf = document.querySelector('meta[name="csrf-token"]').content;
let channel = "";

export function setChannel(id) {
  channel = id;
}

export class ApiFailure extends Error {
  constructor(message, code, status) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

export function sessionExpired() {
  byId("session-banner").hidden = false;
  const conn = byId("conn");
  conn.dataset.state = "lost";
  conn.textContent = t("session_expired");
}

export async function call(method, suffix, body) {
  const headers = { "X-CSRF-Token": csrf, Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(`/api/v1/channels/${encodeURIComponent(channel)}${suffix}`, {
    method, headers, credentials: "same-origin", cache: "no-store",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  if (res.status === 401) sessionExpired();
  if (!res.ok) {
    const err = data && data.error ? data.error : {};
    throw new ApiFailure(err.message || res.statusText, err.code || "http_error", res.status);
  }
  return data;
}

const busy = new WeakSet();

// Run a moderator action from a button: no double submit, and any failure is said out loud.
// The button is marked busy rather than disabled: disabling it would drop keyboard focus.
export async function act(button, run, doneMessage) {
  if (button) {
    if (busy.has(button)) return undefined;
    busy.add(button);
    button.setAttribute("aria-busy", "true");
  }
  try {
    const result = await run();
    if (doneMessage) notify(doneMessage);
    return result;
  } catch (err) {
    notify(t("error", { message: err.message }), "error");
    return undefined;
  } finally {
    if (button) {
      busy.delete(button);
      button.removeAttribute("aria-busy");
    }
  }
}
