// What widgets share: building text safely, words in the page's language, match maths.
// Donor text only ever reaches the page through textContent / text nodes.

export function role(root, name) {
  return root.querySelector(`[data-role="${name}"]`);
}

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

// "a donné {amount}" -> the words as text nodes, {amount} replaced by a node or text.
export function fill(target, template, values) {
  target.replaceChildren();
  for (const piece of template.split(/(\{\w+\})/)) {
    const m = /^\{(\w+)\}$/.exec(piece);
    if (!m) {
      if (piece) target.append(document.createTextNode(piece));
      continue;
    }
    const value = values[m[1]];
    target.append(value instanceof Node ? value : document.createTextNode(value ?? ""));
  }
  return target;
}

export function translator(strings) {
  return (key, values = {}) => (strings[key] ?? key).replace(/\{(\w+)\}/g, (_, k) => values[k] ?? "");
}

export function donorName(t, donation) {
  return donation.donor_name || t("anonymous");
}

export function formatNumber(locale, value, options = {}) {
  return new Intl.NumberFormat(locale, options).format(value);
}

export function formatPercent(locale, percent) {
  return formatNumber(locale, percent / 100, { style: "percent", maximumFractionDigits: percent < 10 ? 1 : 0 });
}

export function formatMultiplier(locale, multiplier) {
  return `×${formatNumber(locale, Number(multiplier), { maximumFractionDigits: 2 })}`;
}

// 12:34, or 1:02:03 past an hour.
export function formatCountdown(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const pad = (n) => String(n).padStart(2, "0");
  return h > 0 ? `${h}:${pad(m)}:${pad(s)}` : `${pad(m)}:${pad(s)}`;
}

// "doublés"/"doubled" for ×2, ×3, ×4; null for other multipliers (1.5, 10…).
export function matchVerb(strings, multiplier) {
  const n = Number(multiplier);
  const key = `verb_${n}`;
  return key in strings ? { verb: strings[key], infinitive: strings[`infinitive_${n}`], present: strings[`present_${n}`] } : null;
}

export function matchLine(t, strings, donation, match) {
  const verb = match && matchVerb(strings, match.multiplier);
  const sponsor = (match && match.sponsor) || "";
  const amount = donation.display.matched;
  return verb ? t("match_line", { amount, verb: verb.verb, sponsor }) : t("match_line_other", { amount, sponsor });
}

// The server says whether a match was active when it sent it; time moves on since.
export function matchActive(match, now) {
  if (!match || !match.sponsor || Number(match.remaining) <= 0) return false;
  if (match.starts_at && now < Date.parse(match.starts_at)) return false;
  return !(match.ends_at && now >= Date.parse(match.ends_at));
}

// A member shows its team's match while its channel's own is not active (docs/teams.md "Team
// match"); the coalesced `team` event moves it when other members' gifts use the cap. The
// match to show after that event, or null to keep the current one. Amounts are written this
// page's way (the event's display is the first member's).
export function teamMatchFor(current, team, locale, now) {
  const m = teamMatchOf(team, locale);
  return m && showsTeamMatch(current, team, m, now) ? m : null;
}

// The team's match written this page's way; null when the team has none (one without a
// sponsor: the team's match was removed).
function teamMatchOf(team, locale) {
  const m = team.match;
  if (!m || !m.sponsor) return m || null;
  const money = moneyFormatter(locale, team.currency);
  const write = (amount) => money.format(toMinor(amount, money.digits));
  return { ...m, display: { ...m.display, cap: write(m.cap), used: write(m.used), remaining: write(m.remaining) } };
}

function showsTeamMatch(current, team, m, now) {
  const ours = Boolean(current && current.team === team.id);
  return ours || (Boolean(m.sponsor) && !matchActive(current, now));
}

// What a member's page keeps of its team's match, so that a `match` event bringing its channel's
// own match while that one is not active (scheduled, used up, ended) leaves the team's shown.
// ``refresh``: once that own match starts, it is shown again (pages call it every second).
export function teamMatchKeeper(locale) {
  let kept = null;  // the team's match as last seen: a snapshot's or a `team` event's
  let own = null;   // the channel's own match, held back while the team's shows
  return {
    seen(match) { if (match && match.team) kept = match.sponsor ? match : null; },
    // A `team` event: kept, and the match to show now (teamMatchFor), or null.
    team(team, current, now) {
      const m = teamMatchOf(team, locale);
      if (!m) return null;
      kept = m.sponsor ? m : null;
      return showsTeamMatch(current, team, m, now) ? m : null;
    },
    shown(match, now) {
      if (!match || match.team || matchActive(match, now) || !kept) return match;
      own = match;
      return kept;
    },
    refresh(current, now) {
      if (!own || !(current && current.team) || !matchActive(own, now)) return current;
      const next = own;
      own = null;
      return next;
    },
  };
}

// Decimal strings -> integer minor units, so adding money never goes through a float.
export function toMinor(amount, digits) {
  const [whole, frac = ""] = String(amount).split(".");
  const sign = whole.startsWith("-") ? -1 : 1;
  return sign * (Math.abs(Number(whole)) * 10 ** digits + Number((frac + "0".repeat(digits)).slice(0, digits) || 0));
}

export function moneyFormatter(locale, currency) {
  const fmt = new Intl.NumberFormat(locale, { style: "currency", currency });
  const digits = fmt.resolvedOptions().maximumFractionDigits;
  return { digits, format: (minor) => fmt.format(minor / 10 ** digits) };
}

export function restartAnimation(node, className) {
  node.classList.remove(className);
  void node.offsetWidth; // a reflow, so the same animation can run again
  node.classList.add(className);
}
