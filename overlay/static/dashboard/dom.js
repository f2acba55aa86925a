// DOM helpers. Donor text only ever goes through textContent or text nodes: never innerHTML.

export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "text") node.textContent = value;
    else if (key === "className") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

export function byId(id) {
  return document.getElementById(id);
}

export function setText(id, text) {
  byId(id).textContent = text ?? "";
}

function escapeRegExp(word) {
  return word.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

// The same rule as overlay/domain/moderation.py: a banned word, case-insensitive, not inside another word.
export function bannedPattern(words) {
  const clean = (words || []).map((w) => w.trim()).filter(Boolean).map(escapeRegExp);
  if (!clean.length) return null;
  const wordChar = "[\\p{L}\\p{N}\\p{M}_]";
  return new RegExp(`(?<!${wordChar})(?:${clean.join("|")})(?!${wordChar})`, "giu");
}

// Text with every banned word wrapped in <mark>, built from text nodes.
export function highlighted(text, pattern) {
  const out = document.createDocumentFragment();
  let last = 0;
  if (pattern) {
    for (const match of text.matchAll(pattern)) {
      out.append(document.createTextNode(text.slice(last, match.index)));
      out.append(el("mark", { text: match[0] }));
      last = match.index + match[0].length;
    }
  }
  out.append(document.createTextNode(text.slice(last)));
  return out;
}

let toastTimer = null;

export function notify(message, kind = "ok") {
  const toast = byId("toast");
  toast.textContent = message;
  toast.dataset.kind = kind;
  toast.classList.add("shown");
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => toast.classList.remove("shown"), kind === "error" ? 8000 : 3000);
}

// Amounts typed by a French moderator may use a decimal comma.
export function decimalInput(value) {
  return String(value).trim().replace(/[\s\u00a0\u202f]/g, "").replace(",", ".");
}
