// The donate form: message counter, "shown as" choice, custom amount, submit label.
// The form works without this file; it only makes it nicer to use on a phone.
const form = document.querySelector("form.donate");

if (form) {
  const message = form.querySelector("#message");
  const count = form.querySelector("#message-count");
  const name = form.querySelector("#donor-name");
  const anonymous = form.querySelector("#anonymous");
  const custom = form.querySelector("#custom-amount");
  const customRadio = form.querySelector("#amount-custom");
  const button = form.querySelector("button.give");
  const money = new Intl.NumberFormat(form.dataset.locale, { style: "currency", currency: form.dataset.currency });

  const updateCount = () => {
    const max = Number(message.maxLength);
    count.textContent = `${message.value.length} / ${max}`;
    count.parentElement.classList.toggle("full", message.value.length >= max);
  };

  const parseAmount = (text) => {
    let s = text.replace(/[\s\u00a0\u202f]/g, "").replace(/[^\d.,]/g, "");
    if ((s.match(/,/g) || []).length === 1 && !s.includes(".")) s = s.replace(",", ".");
    return /^\d+(\.\d+)?$/.test(s) && Number(s) > 0 ? Number(s) : null;
  };

  const updateButton = () => {
    const chosen = form.querySelector("input[name=amount]:checked");
    let label = null;
    if (chosen && chosen.value !== "custom") label = chosen.dataset.label;
    else if (custom) {
      const value = parseAmount(custom.value);
      if (value !== null) label = money.format(value);
    }
    button.textContent = label ? form.dataset.submit.replace("{amount}", label) : form.dataset.submitPlain;
  };

  if (message && count) {
    message.addEventListener("input", updateCount);
    updateCount();
  }
  if (anonymous && name) {
    // Anonymous sends no name at all; the alias field matters only with "alias".
    const alias = form.querySelector("#alias");
    const update = () => {
      name.disabled = anonymous.checked;
      if (alias) alias.disabled = !form.querySelector("#shown-alias").checked;
    };
    form.querySelectorAll("input[name=display_name]").forEach((radio) => radio.addEventListener("change", () => {
      update();
      if (radio.value === "alias" && alias) alias.focus();
    }));
    update();
  }
  if (custom && customRadio) {
    const pickCustom = () => { customRadio.checked = true; updateButton(); };
    custom.addEventListener("focus", pickCustom);
    custom.addEventListener("input", pickCustom);
    customRadio.addEventListener("change", () => custom.focus());
  }
  form.querySelectorAll("input[name=amount]").forEach((radio) => radio.addEventListener("change", updateButton));
  form.addEventListener("submit", () => {
    // One tap, one pledge: the server would fold a second identical post into the first anyway.
    setTimeout(() => { button.disabled = true; }, 0);
  });
  updateButton();
}
