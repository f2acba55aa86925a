// The page's strings come from strings.json (the one source for English and French),
// handed over by the server for the chosen language in the page's data block.
let strings = {};
let plurals = new Intl.PluralRules("en");

export function setStrings(table, lang) {
  strings = table || {};
  plurals = new Intl.PluralRules(lang || "en");
}

export function t(key, vars = {}) {
  const text = strings[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ""));
}

// "count" -> "count_one" or "count_other" by the language's plural rules (French: 0 and 1 are "one").
export function tn(key, n) {
  const form = plurals.select(n) === "one" ? "one" : "other";
  return t(`${key}_${form}`, { n });
}
