// "Send test donation": plays on every overlay, marked test, never counted (API.md §3).
import { el, byId, decimalInput } from "./dom.js";
import { t } from "./i18n.js";
import { act, call } from "./api.js";

const NAMES = ["Alex", "Camille", "Sam", "Jordan", "Lou", "Charlie", "Noor", "Kim"];
const MESSAGES = {
  en: ["Keep it up!", "For a good cause", "Great stream!", "Hello from the chat", ""],
  fr: ["Courage !", "Pour la bonne cause", "Super live !", "Coucou le chat", ""],
};

function pick(list) {
  return list[Math.floor(Math.random() * list.length)];
}

export class TestForm {
  constructor(presets, lang) {
    this.presets = presets;
    this.lang = lang;
    this.form = byId("test-form");
    this.amount = byId("test-amount");
    const chips = presets.map((p) => el("button", {
      type: "button", className: "chip", text: p.label, onclick: () => { this.amount.value = p.amount; },
    }));
    byId("presets").replaceChildren(...chips);
    byId("test-random").addEventListener("click", () => this.randomize());
    this.form.addEventListener("submit", (e) => this.send(e));
  }

  randomize() {
    const cents = Math.floor(100 + Math.random() * 9900);
    this.amount.value = Math.random() < 0.5 && this.presets.length
      ? pick(this.presets).amount : (cents / 100).toFixed(2);
    byId("test-name").value = pick(NAMES);
    byId("test-message").value = pick(MESSAGES[this.lang] || MESSAGES.en);
  }

  async send(event) {
    event.preventDefault();
    const body = { amount: decimalInput(this.amount.value), test: true, source: "test" };
    const name = byId("test-name").value.trim();
    const message = byId("test-message").value.trim();
    if (name) body.donor_name = name;
    if (message) body.message = message;
    if (byId("test-match").checked) body.simulate_match = true;
    await act(event.submitter, () => call("POST", "/donations", body), t("test_sent"));
  }
}
