// The media library: upload (the server checks each file's content), list, play, delete.
import { el, byId, notify } from "../dashboard/dom.js";
import { t } from "../dashboard/i18n.js";
import { act, call, ApiFailure } from "../dashboard/api.js";

const csrf = document.querySelector('meta[name="csrf-token"]').content;

async function upload(channel, file) {
  // The file's bytes as the body: no multipart to parse, and the type is read from the content.
  const res = await fetch(`/api/v1/channels/${encodeURIComponent(channel)}/media?name=${encodeURIComponent(file.name)}`, {
    method: "POST", body: file, credentials: "same-origin", cache: "no-store",
    headers: { "X-CSRF-Token": csrf, Accept: "application/json", "Content-Type": "application/octet-stream" },
  });
  const data = await res.json().catch(() => null);
  if (!res.ok) {
    const err = (data && data.error) || {};
    throw new ApiFailure(`${file.name}: ${err.message || res.statusText}`, err.code, res.status);
  }
  return data;
}

// "cheer.3f9a…e1.mp3" is stored under its content's hash; people know it as "cheer.mp3".
export function shownName(stored) {
  const parts = stored.split(".");
  return parts.length === 3 ? `${parts[0]}.${parts[2]}` : stored;
}

// An alert's picture may be a still image or a video (overlay/domain/media.py FITS).
export function fits(kind, m) {
  return m.kind === kind || (kind === "image" && m.kind === "video");
}

function preview(m) {
  const label = `${t("media_play")} ${shownName(m.name)}`;
  if (m.kind === "image") return el("img", { src: m.url, alt: "" });
  if (m.kind === "video") return el("video", { src: m.url, controls: true, preload: "metadata", "aria-label": label });
  return el("audio", { src: m.url, controls: true, preload: "none", "aria-label": label });
}

export class MediaLibrary {
  constructor(channel, onChange) {
    this.channel = channel;
    this.onChange = onChange;
    this.files = [];
    const picker = byId("media-upload");
    picker.addEventListener("change", async () => {
      for (const file of [...picker.files]) {
        await act(null, () => upload(channel, file), t("uploaded", { name: file.name }));
      }
      picker.value = "";
      await this.load();
    });
  }

  async load() {
    const data = await act(null, () => call("GET", "/media"));
    if (!data) return;
    this.files = data.media;
    this.render();
    this.onChange(this.files);
  }

  render() {
    byId("media-empty").hidden = this.files.length > 0;
    byId("media-list").replaceChildren(...this.files.map((m) => {
      const shown = preview(m);
      const name = shownName(m.name);
      const remove = el("button", {
        type: "button", className: "small danger", text: t("media_delete"),
        "aria-label": t("media_delete_label", { name }),
        onclick: async () => {
          const done = await act(remove, () => call("DELETE", `/media/${encodeURIComponent(m.name)}`),
            t("media_deleted", { name }));
          if (done !== undefined) await this.load();
        },
      });
      return el("li", { "data-name": m.name }, shown, el("span", { className: "name", text: name, title: m.name }),
        el("div", { className: "buttons" }, remove));
    }));
  }
}
